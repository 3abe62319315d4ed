import ArgumentParser
import CatroomServer
import Foundation
import Logging
import ServiceLifecycle

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

        @Option(help: "A configuration file (YAML; docs/catroom.example.yaml lists every key). Flags override it.")
        var config: String?

        @Flag(help: "Check the configuration (file and flags), print it whole, and exit: 0 if it is valid.")
        var checkConfig = false

        @Option(help: "The XMPP domain clients connect to; rooms live on rooms.<domain> (default localhost).")
        var domain: String?

        @Option(help: "Address to listen on (default ::).")
        var host: String?

        @Option(help: "Port for STARTTLS streams (RFC 6120; default 5222).")
        var port: Int?

        @Option(help: "Port for direct-TLS streams (XEP-0368; default 5223); 0 turns it off.")
        var directTLSPort: Int?

        @Option(help: "Directory for the generated certificate (default: $STATE_DIRECTORY, $XDG_DATA_HOME/catroom or ~/.local/share/catroom).")
        var dataDir: String?

        @Option(help: "The operator's certificate chain (PEM, such as an ACME client's fullchain.pem); needs a key. SIGHUP reloads it.")
        var cert: String?

        @Option(help: "The operator's private key (PEM, such as privkey.pem); needs a certificate.")
        var key: String?

        @Option(help: "trace, debug, info, notice, warning, error or critical (default info); only debug and trace may name accounts and rooms.")
        var logLevel: String?

        @Option(help: "Log lines on standard error as plain text or JSON: plain or json (default plain).")
        var logFormat: String?

        @Option(help: "Serve Prometheus metrics at http://HOST:PORT/metrics, such as 127.0.0.1:9464 (default: not served).")
        var metrics: String?

        @Option(help: "Event-loop threads.")
        var threads = ProcessInfo.processInfo.activeProcessorCount

        @Flag(help: "Allow plain username/password registration (XEP-0077), for interop and load tests.")
        var allowPlainRegistration = false

        @Flag(help: "Allow streams without TLS. Loopback addresses only; for tests.")
        var allowPlaintext = false

        @Option(help: "Largest stanza in bytes (default \(Limits().maxStanzaBytes)).")
        var maxStanzaBytes: Int?

        @Option(help: "Most occupants in one room (default \(Limits().maxOccupants)).")
        var maxOccupants: Int?

        @Option(help: "Stanzas per second one connection may send before its reads are paused (default \(Limits().stanzasPerSecond)); the burst is twice that.")
        var stanzaRate: Double?

        @Option(help: "Concurrent connections from all addresses; keep LimitNOFILE above it (default \(Limits().maxConnections)).")
        var maxConnections: Int?

        @Option(help: "Concurrent connections from one IP address, loopback included (default \(Limits().connectionsPerAddress)).")
        var connectionsPerAddress: Int?

        @Option(help: "New connections per minute from one IP address (default \(Limits().connectionAttemptsPerMinute)).")
        var connectionAttemptsPerMinute: Int?

        @Option(help: "Registrations per minute from one IP address (default \(Limits().registrationsPerMinute)).")
        var registrationsPerMinute: Int?

        @Option(help: "Registrations per minute from all addresses (default \(Limits().totalRegistrationsPerMinute)).")
        var totalRegistrationsPerMinute: Int?

        @Option(help: "Accounts alive at once (default \(Limits().maxAccounts)).")
        var maxAccounts: Int?

        @Option(help: "Rooms one account may be in at once (default \(Limits().maxRoomsPerAccount)).")
        var maxRoomsPerAccount: Int?

        @Option(help: "Seconds a connection may take to authenticate (default \(Limits().preAuthenticationSeconds)).")
        var preAuthSeconds: Int64?

        @Option(help: "Bytes queued for one slow reader before it is disconnected (default \(Limits().maxOutboundBytes)).")
        var maxOutboundBytes: Int?

        @Option(help: .hidden)
        var wireTap: String?

        typealias Limits = ServerConfiguration.Limits

        func validate() throws {
            if let logLevel, Logger.Level(rawValue: logLevel) == nil { throw ValidationError("unknown log level \(logLevel)") }
            if let logFormat, ServerConfiguration.LogFormat(rawValue: logFormat) == nil {
                throw ValidationError("unknown log format \(logFormat): plain or json")
            }
            if let metrics, ListenAddress(text: metrics) == nil {
                throw ValidationError("--metrics \(metrics): must be HOST:PORT, such as 127.0.0.1:9464")
            }
            // A flag out of its range is a usage error (64), whatever the file says.
            var flagsOnly = Self.defaults
            applyFlags(to: &flagsOnly)
            do { try flagsOnly.validateEachSetting() } catch { throw ValidationError("\(error)") }
        }

        static var defaults: ServerConfiguration { ServerConfiguration(domain: "localhost", dataDirectory: defaultDataDirectory) }

        /// The defaults, then the file, then the flags given.
        func effectiveConfiguration() throws(ConfigurationError) -> ServerConfiguration {
            var configuration = Self.defaults
            if let config { try configuration.apply(file: config) }
            applyFlags(to: &configuration)
            try configuration.validate()
            return configuration
        }

        /// Sets what the flags give.
        func applyFlags(to configuration: inout ServerConfiguration) {
            func set<V>(_ path: WritableKeyPath<ServerConfiguration, V>, _ value: V?) {
                if let value { configuration[keyPath: path] = value }
            }
            set(\.domain, domain)
            set(\.host, host)
            set(\.port, port)
            set(\.directTLSPort, directTLSPort.map { $0 == 0 ? nil : $0 })
            set(\.dataDirectory, dataDir)
            if let cert { configuration.certificatePath = cert }
            if let key { configuration.keyPath = key }
            if allowPlainRegistration { configuration.allowPlainRegistration = true }
            if let metrics { configuration.metrics = ListenAddress(text: metrics) }
            set(\.logLevel, logLevel.flatMap(Logger.Level.init(rawValue:)))
            set(\.logFormat, logFormat.flatMap(ServerConfiguration.LogFormat.init(rawValue:)))
            set(\.limits.maxStanzaBytes, maxStanzaBytes)
            set(\.limits.maxOccupants, maxOccupants)
            set(\.limits.stanzasPerSecond, stanzaRate)
            set(\.limits.stanzaBurst, stanzaRate.map { max($0 * 2, 1) })
            set(\.limits.maxConnections, maxConnections)
            set(\.limits.connectionsPerAddress, connectionsPerAddress)
            set(\.limits.connectionAttemptsPerMinute, connectionAttemptsPerMinute)
            set(\.limits.registrationsPerMinute, registrationsPerMinute)
            set(\.limits.totalRegistrationsPerMinute, totalRegistrationsPerMinute)
            set(\.limits.maxAccounts, maxAccounts)
            set(\.limits.maxRoomsPerAccount, maxRoomsPerAccount)
            set(\.limits.preAuthenticationSeconds, preAuthSeconds)
            set(\.limits.maxOutboundBytes, maxOutboundBytes)
            configuration.allowPlaintext = allowPlaintext
            configuration.wireTapPath = wireTap
        }

        func run() async throws {
            let configuration: ServerConfiguration
            do {
                configuration = try effectiveConfiguration()
            } catch {
                FileHandle.standardError.write(Data("catroom: \(error)\n".utf8))
                throw ExitCode(78)  // EX_CONFIG (sysexits.h)
            }
            if checkConfig {
                print(configuration.yaml, terminator: "")
                return
            }
            let level = configuration.logLevel
            switch configuration.logFormat {
            case .plain:
                LoggingSystem.bootstrap { label in
                    var handler = StreamLogHandler.standardError(label: label)
                    handler.logLevel = level
                    return handler
                }
            case .json:
                LoggingSystem.bootstrap { label in JSONLogHandler(label: label, logLevel: level) }
            }
            let logger = Logger(label: "catroom.serve")
            let server = try await Server.start(configuration: configuration, logger: logger, threads: threads)
            let domain = configuration.domain
            let tlsPort = server.directTLSPort.map { " and \($0) (TLS)" } ?? ""
            print("catroom serving \(domain) on port \(server.port) (STARTTLS)\(tlsPort); rooms on rooms.\(domain)")
            if let metricsPort = server.metricsPort, let address = configuration.metrics {
                print("metrics at http://\(ListenAddress(host: address.host, port: metricsPort))/metrics")
            }
            print("certificate SHA-256 \(server.certificateFingerprint)\(server.generatedCertificate ? " (generated in \(configuration.dataDirectory))" : "")")
            let portFlag = server.port == 5222 ? "" : " --port \(server.port)"
            print("join with: catroom join lobby --nick alice --server \(domain)\(portFlag) --pin \(server.certificateFingerprint)")
            fflush(nil)

            // SIGTERM or SIGINT: `Server.run` sends every stream <system-shutdown/> and returns.
            let services = ServiceGroup(configuration: .init(
                services: [.init(service: server), .init(service: CertificateReloader(server: server, logger: logger))],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await services.run()
        }

        /// systemd's `StateDirectory=` first, then the XDG data directory.
        static var defaultDataDirectory: String {
            let environment = ProcessInfo.processInfo.environment
            if let state = environment["STATE_DIRECTORY"]?.split(separator: ":").first { return String(state) }
            if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty { return xdg + "/catroom" }
            return (environment["HOME"] ?? ".") + "/.local/share/catroom"
        }
    }
}
