import CatroomProtocol
import CatroomXML
import NIOCore
import NIOPosix
import NIOSSL

/// Why the client could not get into its room, for the user: one sentence saying what
/// happened and what to do, never a library's error name. The kind decides the exit status.
public struct ConnectFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// No stream to the server: unknown host, refused, timed out, TLS did not complete.
        case cannotConnect = "cannot-connect"
        /// The server's certificate is not the one trusted, or trust cannot be checked.
        case trust
        /// The server said no: registration, authentication, the room (password, full).
        case refused
    }

    public let kind: Kind
    public let description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }

    /// A failure to open the TCP connection to `host` port `port` within `timeout` seconds.
    static func connecting(to host: String, port: Int, timeout: Double, _ error: Error) -> ConnectFailure {
        let place = "\(host) port \(port)"
        if let error = error as? NIOConnectionError {
            if error.dnsAError != nil || error.dnsAAAAError != nil || error.connectionErrors.isEmpty {
                return ConnectFailure(.cannotConnect, "cannot find the host \(host): check the name given with --server"
                    + " (or give the server's address with --server and its XMPP name with --domain)")
            }
            if let failure = error.connectionErrors.lazy.compactMap({ $0.error as? IOError }).first {
                return refusedOrUnreachable(place, failure.errnoCode)
            }
        }
        if let error = error as? IOError { return refusedOrUnreachable(place, error.errnoCode) }
        if let error = error as? ChannelError, case .connectTimeout = error {
            return ConnectFailure(.cannotConnect, "no answer from \(place) within \(timeout.secondsText) s: check --server and --port, and that no firewall drops the connection")
        }
        return ConnectFailure(.cannotConnect, "cannot connect to \(place) (\(describe(error))): check --server and --port")
    }

    private static func refusedOrUnreachable(_ place: String, _ code: Int32) -> ConnectFailure {
        if code == ECONNREFUSED {
            return ConnectFailure(.cannotConnect, "nothing accepts connections at \(place) (connection refused): is `catroom serve` running there? Check --server and --port")
        }
        return ConnectFailure(.cannotConnect, "cannot connect to \(place): \(String(cString: strerror(code))): check --server and --port")
    }

    /// A failure between connecting and a bound resource (STARTTLS, registration, SASL, bind).
    static func login(to host: String, port: Int, _ error: Error) -> ConnectFailure {
        switch error {
        case let mismatch as CertificatePin.Mismatch: return ConnectFailure(.trust, mismatch.description)
        case let failure as Login.Failure: return ConnectFailure(failure.kind, failure.description)
        case let failure as ConnectFailure: return failure
        case let failure as StanzaConnection.ConnectionFailed: return ConnectFailure(.cannotConnect, "\(failure.description) with \(host) port \(port): is it a catroom server? Try again later")
        case let failure as SCRAMClient.SCRAMError:
            return ConnectFailure(.trust, "\(failure.description): is \(host) port \(port) the catroom server you meant?")
        case is IQTracker.Timeout:
            return ConnectFailure(.cannotConnect, "\(host) port \(port) did not answer a request in time: try again later")
        default:
            return ConnectFailure(.cannotConnect, "the TLS connection to \(host) port \(port) failed (\(describe(error))): is it a catroom server, on its STARTTLS port?")
        }
    }

    /// A phase that ran out of time (`PhaseDeadline`).
    static func expired(_ expired: PhaseDeadline.Expired, host: String, port: Int) -> ConnectFailure {
        ConnectFailure(.cannotConnect, "\(expired.description) (\(host) port \(port)): is it a catroom server? Try again later")
    }

    /// The room refused the join (XEP-0045 §7.2): what the condition means for the user.
    static func roomRefused(_ room: JID, _ presence: XML.Element) -> ConnectFailure {
        let error = presence.firstChild(name: "error", namespace: Namespace.client)
        let condition = error?.childElements.first { $0.name != "text" }?.name
        switch condition {
        case "not-authorized":
            return ConnectFailure(.refused, "\(room) has a password and this is not it: give the right one with --password")
        case "service-unavailable":
            return ConnectFailure(.refused, "\(room) is full: try again later, or ask its members to make room")
        case "forbidden":
            return ConnectFailure(.refused, "\(room) does not let you in (forbidden): ask the server's operator")
        default:
            return ConnectFailure(.refused, "\(room) refused the join (\(Login.errorText(presence))): try again, or ask the server's operator")
        }
    }

    /// An error from below, as words: the errno text of a socket error, what a TLS
    /// error means; never a type or enum case name.
    static func describe(_ error: Error) -> String {
        switch error {
        case let error as IOError: return String(cString: strerror(error.errnoCode))
        case let error as NIOSSLError:
            switch error {
            case .uncleanShutdown: return "the connection was cut without a TLS close"
            case .handshakeFailed: return "the TLS handshake failed"
            default: return "a TLS error"
            }
        case is BoringSSLError: return "a TLS error"
        case let error as ChannelError:
            switch error {
            case .connectTimeout: return "timed out"
            case .eof, .ioOnClosedChannel, .alreadyClosed, .outputClosed, .inputClosed: return "the connection closed"
            default: return "a connection error"
            }
        case let error as CustomStringConvertible
        where error is Login.Failure || error is ConnectFailure || error is CertificatePin.Mismatch || error is StanzaConnection.ConnectionFailed
            || error is SCRAMClient.SCRAMError || error is PhaseDeadline.Expired:
            return error.description
        default: return "an unexpected error"
        }
    }
}
