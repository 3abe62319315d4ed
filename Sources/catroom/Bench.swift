import ArgumentParser
import CatroomBench

extension Catroom {
    /// Benchmarks, each with its baseline measured in the same run.
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure performance against baselines in the same run.",
            subcommands: [Crypto.self, Parser.self, ServerLoad.self, JoinTime.self, Soak.self, ProfileCost.self, UILoad.self])

        struct Crypto: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Ratchet, X3DH and fan-out beside the libsodium calls they cannot avoid.",
                discussion: "Build with -c release for meaningful numbers: make bench.")

            @Flag(help: "Print JSON instead of a table.")
            var json = false

            @Flag(help: "A tenth of the samples: a smoke run, not a measurement.")
            var quick = false

            func run() throws {
                let rows = try CryptoBenchmark(quick: quick).run()
                print(json ? try CryptoBenchmark.json(rows) : CryptoBenchmark.table(rows))
            }
        }

        struct Parser: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "An idle stream's XML parser: memory awake and hibernating, and the cost of waking it.",
                discussion: "Build with -c release for meaningful numbers.")

            @Flag(help: "Print JSON instead of a table.")
            var json = false

            @Flag(help: "A tenth of the samples and streams: a smoke run, not a measurement.")
            var quick = false

            func run() throws {
                let report = try ParserBenchmark(quick: quick).run()
                print(json ? try ParserBenchmark.json(report) : ParserBenchmark.table(report))
            }
        }

        struct ProfileCost: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "profile",
                abstract: "Opening a profile (Argon2id at the default and the minimum limits), writing one contact and one history entry, and delivery latency with history on and off.",
                discussion: "Works in a temporary directory, removed at the end. Build with -c release for meaningful numbers.")

            @Flag(help: "Print JSON instead of a table.")
            var json = false

            @Flag(help: "Fewer samples: a smoke run, not a measurement.")
            var quick = false

            func run() async throws {
                let report = try await ProfileBenchmark(quick: quick).run()
                print(json ? try ProfileBenchmark.json(report) : ProfileBenchmark.table(report))
            }
        }

        /// `catroom bench server`: load on a running XMPP room server.
        struct ServerLoad: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "server",
                abstract: "Load a running XMPP server's rooms: throughput, latency, idle connections.",
                discussion: """
                    Speaks standard XMPP (RFC 6120, RFC 6121, XEP-0045, XEP-0077), so it measures catroom, \
                    Prosody or ejabberd alike, on loopback only. Start the server first; catroom's default \
                    limits are strict, and the report says which ones each scenario needs raised. \
                    docs/performance.md has the full procedure. Build with -c release for meaningful numbers.
                    """)

            @Option(help: "Server address (loopback only).")
            var host = ServerBenchmarkOptions().host

            @Option(help: "Server port (STARTTLS or plaintext; the direct-TLS port with --tls direct).")
            var port = ServerBenchmarkOptions().port

            @Option(help: "The XMPP domain.")
            var domain = ServerBenchmarkOptions().domain

            @Option(help: "The MUC service (default rooms.<domain>, catroom's; conference.<domain> on most other servers).")
            var roomDomain: String?

            @Option(help: "starttls, direct or none (certificates are not verified).")
            var tls = ServerBenchmarkOptions().tls

            @Option(help: "SASL mechanism: plain or scram-sha-256.")
            var auth = ServerBenchmarkOptions().authentication

            @Option(help: "xep0077, catroom-key or none (accounts <prefix><n> with --password exist).")
            var register = ServerBenchmarkOptions().registration

            @Option(help: """
                Account names are <prefix><t|l|i><n> when registering (per scenario), <prefix><n> with --register none \
                (default: random per run when registering, else bench).
                """)
            var prefix: String?

            @Option(help: "Account password (at least 16 bytes for catroom).")
            var password = ServerBenchmarkOptions().password

            @Option(help: "Spread connections over 127.0.0.1 … 127.0.0.N.")
            var sourceAddresses = ServerBenchmarkOptions().sourceAddresses

            @Option(help: "Generator event-loop threads (default: one per core).")
            var clientThreads = ServerBenchmarkOptions().clientThreads

            @Option(help: "PID of the server, to sample its CPU time and RSS from /proc.")
            var serverPid: Int32?

            @Option(help: "Seconds each scenario may take, set-up included.")
            var timeout = ServerBenchmarkOptions().timeoutSeconds

            @Option(help: "The scenario to run; all runs each in turn.")
            var scenario = ScenarioChoice.all

            @Option(help: "Rooms (throughput, latency).")
            var rooms = ServerBenchmarkOptions().rooms

            @Option(help: "Occupants per room (throughput, latency).")
            var occupants = ServerBenchmarkOptions().occupants

            @Option(help: "Opaque payload bytes per message (throughput, latency).")
            var payloadBytes = ServerBenchmarkOptions().payloadBytes

            @Option(help: "Messages each occupant sends (throughput).")
            var messages = ServerBenchmarkOptions().messages

            @Option(help: "Own messages each sender keeps in flight (throughput).")
            var window = ServerBenchmarkOptions().window

            @Option(help: "Messages per second over all senders (latency).")
            var rate = ServerBenchmarkOptions().rate

            @Option(help: "Seconds of paced sending (latency).")
            var duration = ServerBenchmarkOptions().durationSeconds

            @Option(help: "Idle connections to hold (idle).")
            var connections = ServerBenchmarkOptions().connections

            @Option(help: "Logins in flight at once.")
            var concurrency = ServerBenchmarkOptions().concurrency

            @Option(help: "Seconds to let the server settle before sampling memory (idle).")
            var settle = ServerBenchmarkOptions().settleSeconds

            @Option(help: "End connections with </stream:stream> (polite) or by closing the socket (abrupt).")
            var close = CloseMode(politely: ServerBenchmarkOptions().closePolitely)

            @Flag(help: "Print JSON instead of text.")
            var json = false

            /// `--scenario`: one of the scenarios, or all of them (the default).
            enum ScenarioChoice: String, CaseIterable, ExpressibleByArgument {
                case throughput, latency, idle, all

                var scenarios: [ServerBenchmarkOptions.Scenario] {
                    ServerBenchmarkOptions.Scenario(rawValue: rawValue).map { [$0] } ?? ServerBenchmarkOptions.Scenario.allCases
                }
            }

            /// `--close`: how each connection ends.
            enum CloseMode: String, CaseIterable, ExpressibleByArgument {
                case polite, abrupt

                init(politely: Bool) { self = politely ? .polite : .abrupt }
            }

            func validate() throws {
                let problems = options.problems()
                guard problems.isEmpty else { throw ValidationError(problems.joined(separator: "\n")) }
            }

            var options: ServerBenchmarkOptions {
                var options = ServerBenchmarkOptions()
                options.host = host
                options.port = port
                options.domain = domain
                options.roomDomain = roomDomain
                options.tls = tls
                options.authentication = auth
                options.registration = register
                options.accountPrefix = prefix
                options.password = password
                options.sourceAddresses = sourceAddresses
                options.clientThreads = clientThreads
                options.serverPID = serverPid
                options.timeoutSeconds = timeout
                options.scenarios = scenario.scenarios
                options.rooms = rooms
                options.occupants = occupants
                options.payloadBytes = payloadBytes
                options.messages = messages
                options.window = window
                options.rate = rate
                options.durationSeconds = duration
                options.connections = connections
                options.concurrency = concurrency
                options.settleSeconds = settle
                options.closePolitely = close == .polite
                return options
            }

            func run() async throws {
                let report = try await ServerBenchmark(options: options).run()
                print(json ? try report.json() : report.text())
            }
        }
    }
}

extension ServerBenchmarkOptions.TLSMode: ExpressibleByArgument {}
extension ServerBenchmarkOptions.Authentication: ExpressibleByArgument {}
extension ServerBenchmarkOptions.Registration: ExpressibleByArgument {}
