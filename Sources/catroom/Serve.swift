import ArgumentParser
import CatroomServer
import Dispatch
import Foundation
import Logging

extension Catroom {
    /// `catroom serve`: a self-hosted room server.
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a catroom room server.",
            discussion: """
                Speaks XMPP on --port with STARTTLS (required) and on --direct-tls-port with TLS from \
                the first byte. On first start it generates a self-signed certificate in --data-dir and \
                prints its fingerprint for clients to pin. Nothing else is written: accounts, prekeys \
                and rooms live in memory and vanish with their connections.
                """)

        @Option(help: "The XMPP domain clients connect to; rooms live on rooms.<domain>.")
        var domain = "localhost"

        @Option(help: "Address to listen on.")
        var host = "::"

        @Option(help: "Port for STARTTLS streams (RFC 6120).")
        var port = 5222

        @Option(help: "Port for direct-TLS streams (XEP-0368); 0 turns it off.")
        var directTLSPort = 5223

        @Option(help: "Directory for the generated certificate (default: $XDG_DATA_HOME/catroom or ~/.local/share/catroom).")
        var dataDir: String?

        @Option(help: "The operator's certificate chain (PEM); needs --key.")
        var cert: String?

        @Option(help: "The operator's private key (PEM); needs --cert.")
        var key: String?

        @Option(help: "trace, debug, info, notice, warning, error or critical.")
        var logLevel = "info"

        @Option(help: "Event-loop threads.")
        var threads = ProcessInfo.processInfo.activeProcessorCount

        @Flag(help: "Allow plain username/password registration (XEP-0077), for interop and load tests.")
        var allowPlainRegistration = false

        @Flag(help: "Allow streams without TLS. Loopback addresses only; for tests.")
        var allowPlaintext = false

        @Option(help: "Largest stanza in bytes.")
        var maxStanzaBytes = ServerConfiguration.Limits().maxStanzaBytes

        @Option(help: "Most occupants in one room.")
        var maxOccupants = ServerConfiguration.Limits().maxOccupants

        @Option(help: "Stanzas per second one connection may send before its reads are paused.")
        var stanzaRate = ServerConfiguration.Limits().stanzasPerSecond

        @Option(help: "Concurrent connections from all addresses; keep LimitNOFILE above it.")
        var maxConnections = ServerConfiguration.Limits().maxConnections

        @Option(help: "Concurrent connections from one IP address (loopback included).")
        var connectionsPerAddress = ServerConfiguration.Limits().connectionsPerAddress

        @Option(help: "New connections per minute from one IP address.")
        var connectionAttemptsPerMinute = ServerConfiguration.Limits().connectionAttemptsPerMinute

        @Option(help: "Registrations per minute from one IP address.")
        var registrationsPerMinute = ServerConfiguration.Limits().registrationsPerMinute

        @Option(help: "Registrations per minute from all addresses.")
        var totalRegistrationsPerMinute = ServerConfiguration.Limits().totalRegistrationsPerMinute

        @Option(help: "Accounts alive at once.")
        var maxAccounts = ServerConfiguration.Limits().maxAccounts

        @Option(help: "Rooms one account may be in at once.")
        var maxRoomsPerAccount = ServerConfiguration.Limits().maxRoomsPerAccount

        @Option(help: "Seconds a connection may take to authenticate.")
        var preAuthSeconds = ServerConfiguration.Limits().preAuthenticationSeconds

        @Option(help: "Bytes queued for one slow reader before it is disconnected.")
        var maxOutboundBytes = ServerConfiguration.Limits().maxOutboundBytes

        @Option(help: .hidden)
        var wireTap: String?

        func validate() throws {
            guard (cert == nil) == (key == nil) else { throw ValidationError("--cert and --key go together") }
            guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown log level \(logLevel)") }
            // One fan-out message must fit one stanza: about 330 bytes per recipient plus the payload (CR-0005 §6.3).
            // That also keeps the cap above RFC 6120 §13.12's minimum of 10000 bytes.
            let roomCap = (maxStanzaBytes - 16384) / 330
            guard roomCap >= 1 else {
                throw ValidationError("--max-stanza-bytes must be at least \(16384 + 330): a 16 KiB payload and one recipient (xep/CR-0005 §6.3)")
            }
            guard (1...roomCap).contains(maxOccupants) else {
                throw ValidationError("--max-occupants must be 1 to \(roomCap) for \(maxStanzaBytes)-byte stanzas (xep/CR-0005 §6.3)")
            }
        }

        func run() async throws {
            let level = Logger.Level(rawValue: logLevel) ?? .info
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
            let logger = Logger(label: "catroom.serve")
            var configuration = ServerConfiguration(domain: domain, dataDirectory: dataDir ?? Self.defaultDataDirectory)
            configuration.host = host
            configuration.port = port
            configuration.directTLSPort = directTLSPort == 0 ? nil : directTLSPort
            configuration.certificatePath = cert
            configuration.keyPath = key
            configuration.allowPlaintext = allowPlaintext
            configuration.allowPlainRegistration = allowPlainRegistration
            configuration.limits.maxStanzaBytes = maxStanzaBytes
            configuration.limits.maxOccupants = maxOccupants
            configuration.limits.stanzasPerSecond = stanzaRate
            configuration.limits.stanzaBurst = max(stanzaRate * 2, 1)
            configuration.limits.maxConnections = maxConnections
            configuration.limits.connectionsPerAddress = connectionsPerAddress
            configuration.limits.connectionAttemptsPerMinute = connectionAttemptsPerMinute
            configuration.limits.registrationsPerMinute = registrationsPerMinute
            configuration.limits.totalRegistrationsPerMinute = totalRegistrationsPerMinute
            configuration.limits.maxAccounts = maxAccounts
            configuration.limits.maxRoomsPerAccount = maxRoomsPerAccount
            configuration.limits.preAuthenticationSeconds = preAuthSeconds
            configuration.limits.maxOutboundBytes = maxOutboundBytes
            configuration.wireTapPath = wireTap

            let server = try await Server.start(configuration: configuration, logger: logger, threads: threads)
            let tlsPort = server.directTLSPort.map { " and \($0) (TLS)" } ?? ""
            print("catroom serving \(domain) on port \(server.port) (STARTTLS)\(tlsPort); rooms on rooms.\(domain)")
            print("certificate SHA-256 \(server.certificateFingerprint)\(server.generatedCertificate ? " (generated in \(configuration.dataDirectory))" : "")")
            let portFlag = server.port == 5222 ? "" : " --port \(server.port)"
            print("join with: catroom join lobby --nick alice --server \(domain)\(portFlag) --pin \(server.certificateFingerprint)")
            fflush(nil)

            let signal = await Self.waitForTermination()
            logger.info("received \(signal == SIGTERM ? "SIGTERM" : "SIGINT"), shutting down")
            await server.shutdown()
        }

        static var defaultDataDirectory: String {
            let environment = ProcessInfo.processInfo.environment
            if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty { return xdg + "/catroom" }
            return (environment["HOME"] ?? ".") + "/.local/share/catroom"
        }

        /// Suspends until SIGINT or SIGTERM arrives.
        static func waitForTermination() async -> Int32 {
            await withCheckedContinuation { continuation in
                let queue = DispatchQueue(label: "catroom.signals")
                let once = SignalOnce(continuation)
                for number in [SIGINT, SIGTERM] {
                    signal(number, SIG_IGN)
                    let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                    source.setEventHandler { once.fire(number) }
                    source.resume()
                    once.keep(source)
                }
            }
        }
    }
}

/// Resumes the waiting task on the first signal only; keeps the sources alive.
private final class SignalOnce: @unchecked Sendable {
    private var continuation: CheckedContinuation<Int32, Never>?
    private var sources: [DispatchSourceSignal] = []

    init(_ continuation: CheckedContinuation<Int32, Never>) { self.continuation = continuation }

    func keep(_ source: DispatchSourceSignal) { sources.append(source) }

    /// Called on the signal queue only.
    func fire(_ number: Int32) {
        continuation?.resume(returning: number)
        continuation = nil
    }
}
