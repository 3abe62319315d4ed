import CatroomCrypto
import CatroomProtocol

/// What `catroom join` is told: where to connect, which room, as whom, and whom to trust.
public struct ClientConfiguration: Sendable {
    /// How the server's certificate is trusted.
    public enum Trust: Sendable, Equatable {
        /// Trust on first use, SSH style: the first fingerprint seen for host and port is
        /// recorded in this file; a different one later is a hard error.
        case firstUse(knownHosts: String)
        /// Only this SHA-256 fingerprint (hex, colons optional).
        case pinned(String)
        /// No check at all: loopback tests only.
        case insecure
    }

    public var host: String
    public var port = 5222
    /// The XMPP domain; the host unless the server calls itself something else.
    public var domain: String
    /// The room's name; the client joins `roomJID()`, its canonical `<room>@rooms.<domain>`.
    public var room: String
    public var nick: String
    public var roomPassword: String?
    /// The room's invite secret (CR-0008): members who do not prove it are sent nothing.
    public var invite: InviteSecret?
    /// Rooms joined as well, after `room` and over the same connection (CR-0006 §5.12);
    /// `roomPassword` and `invite` are `room`'s alone.
    public var moreRooms: [String] = []
    public var trust: Trust
    /// With `.pinned`: the known_hosts file in which a certificate matching the pin
    /// replaces the host's line, because the user confirmed it.
    public var recordPinIn: String?
    /// Streams without TLS, for loopback tests only.
    public var plaintext = false
    /// Connect from this local address (tests spread clients over 127.x addresses).
    public var sourceAddress: String?
    /// The least time between two prekey publications (CR-0006 §4.1): ten minutes over
    /// the server's six publications in ten minutes (CR-0004 §7), so the server never
    /// refuses a refill as too frequent, and a server repeating low-stock notices gets
    /// one publication per interval.
    public var refillCoolDownSeconds = 100.0
    /// How long a message that arrived before its session may wait for it.
    public var pendingMessageSeconds = 5.0
    /// How long an occupant may go without completing its key exchange before it is
    /// reported as a possible silent reader.
    public var silentReaderSeconds = 10
    /// How long accepted room messages may wait for a message of one's own to carry
    /// their acknowledgements before an acknowledgement-only message goes out (CR-0006 §5.8).
    public var acknowledgementDelaySeconds = 1.0
    /// How long a gap in a member's message counters may stay unfilled (a reordered
    /// message may still fill it) before it is reported as missing messages.
    public var gapReportSeconds = 5.0
    /// Seconds each blocking phase of a connection may take (TCP connect, opening the
    /// stream, TLS, registration, authentication, bind, join) before the attempt fails
    /// with an error naming the phase.
    public var phaseTimeoutSeconds = 15.0
    /// XEP-0199 keepalive: after this much silence from the server, the client pings it.
    public var keepaliveIdleSeconds = 30.0
    /// A ping not answered within this ends the connection: a stopped or unreachable
    /// server is noticed within `keepaliveIdleSeconds + keepaliveTimeoutSeconds`.
    public var keepaliveTimeoutSeconds = 15.0
    /// Whether, when, and how often to reconnect after losing the server.
    public var reconnect = ReconnectPolicy()
    /// Messages typed while disconnected that wait for the next connection; more are refused.
    public var queueLimit = 100

    public init(host: String, domain: String? = nil, room: String, nick: String, trust: Trust) {
        self.host = host
        self.domain = domain ?? host
        self.room = room
        self.nick = nick
        self.trust = trust
    }

    public var roomAddress: String { "\(room)@rooms.\(domain)" }

    /// The room's canonical bare address (CR-0005 §3.1): `room` with its ASCII letters
    /// lowercased, on `rooms.<domain>` lowercased. The error says what is allowed.
    public func roomJID() throws(Invalid) -> JID { try roomJID(room) }

    /// Another room's canonical address on the same service (`/join`).
    public func roomJID(_ room: String) throws(Invalid) -> JID {
        guard let service = try? JID(localpart: nil, domain: "rooms.\(domain)") else {
            throw Invalid(description: "rooms.\(domain) is not a valid XMPP domain")
        }
        do {
            return try RoomName.address(room, service: service)
        } catch {
            throw Invalid(description: error.description)
        }
    }

    /// The display name as others will see it (CR-0006 §5.4), or why it is refused.
    public func checkedNick() throws(Invalid) -> String {
        do {
            return try DisplayName.check(nick)
        } catch {
            throw Invalid(description: error.description)
        }
    }

    /// A room, domain or display name that cannot be used, and why.
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }
}
