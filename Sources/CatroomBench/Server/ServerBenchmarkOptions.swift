import CatroomProtocol
import NIOCore

/// What `catroom bench server` is pointed at and what it asks of it.
///
/// Everything is standard XMPP (RFC 6120, RFC 6121, XEP-0045, XEP-0077), so the same
/// options drive catroom, Prosody or ejabberd; the catroom-only parts (key registration,
/// the `<encrypted/>` element catroom requires in rooms) are harmless elsewhere.
public struct ServerBenchmarkOptions: Sendable {
    /// How the stream is secured (RFC 6120 §5, XEP-0368).
    public enum TLSMode: String, Sendable, CaseIterable, Codable {
        case starttls, direct, none
    }

    /// The SASL mechanism (RFC 4616, RFC 7677).
    public enum Authentication: String, Sendable, CaseIterable, Codable {
        case plain
        case scramSHA256 = "scram-sha-256"
    }

    /// How accounts come to exist.
    public enum Registration: String, Sendable, CaseIterable, Codable {
        /// XEP-0077 username and password, in band before SASL.
        case xep0077
        /// catroom's key-possession registration (CR-0003): a fresh identity key per connection.
        case catroomKey = "catroom-key"
        /// Accounts `<prefix><n>` with `password` already exist.
        case none
    }

    public enum Scenario: String, Sendable, CaseIterable, Codable {
        case throughput, latency, idle
    }

    public var host = "127.0.0.1"
    public var port = 5222
    public var domain = "localhost"
    /// The MUC service; nil means `rooms.<domain>` (catroom's).
    public var roomDomain: String?
    public var tls = TLSMode.starttls
    public var authentication = Authentication.scramSHA256
    public var registration = Registration.xep0077
    /// Account names are `<prefix><n>`; nil means a fresh random prefix per run when registering, `bench` otherwise.
    public var accountPrefix: String?
    /// At least 16 bytes: catroom's lower bound for registration.
    public var password = "catroom-bench-password"
    /// Connections are spread over 127.0.0.1 … 127.0.0.N, so per-address limits apply as they would to N hosts.
    public var sourceAddresses = 1
    /// Event-loop threads of the generator.
    public var clientThreads = System.coreCount
    /// Logins in flight at once.
    public var concurrency = 64
    /// The server process to sample (/proc/<pid>/stat and /proc/<pid>/status), if any.
    public var serverPID: Int32?
    /// Upper bound on each scenario, set-up included.
    public var timeoutSeconds = 120.0
    /// End each connection with `</stream:stream>` (RFC 6120 §4.4), or just close the socket.
    public var closePolitely = true
    /// The scenarios to run, in this order.
    public var scenarios: [Scenario] = Scenario.allCases

    // MARK: Rooms (throughput and latency)

    public var rooms = 1
    public var occupants = 50
    /// Raw bytes of the opaque payload (base64 on the wire, about 4/3 as many characters).
    public var payloadBytes = 600

    // MARK: Throughput (closed loop)

    /// Messages each occupant sends.
    public var messages = 200
    /// Own messages each sender keeps in flight.
    public var window = 8

    // MARK: Latency (open loop)

    /// Messages per second over all senders.
    public var rate = 5000.0
    public var durationSeconds = 5.0

    // MARK: Idle

    public var connections = 1000
    /// Seconds to wait after the last login before sampling memory, so the server settles.
    public var settleSeconds = 1.0

    public init() {}

    /// `rooms.<domain>` unless told otherwise.
    public var resolvedRoomDomain: String { roomDomain ?? "rooms.\(domain)" }

    /// Checks the options make a bounded run against loopback; returns what is wrong, if anything.
    public func problems() -> [String] {
        var problems: [String] = []
        if !isLoopbackHost(host) { problems.append("--host must be a loopback address (127.0.0.0/8, ::1 or localhost)") }
        if !(1...254).contains(sourceAddresses) { problems.append("--source-addresses must be 1 to 254") }
        if sourceAddresses > 1 && host.contains(":") { problems.append("--source-addresses needs an IPv4 --host") }
        if !(1...1024).contains(clientThreads) { problems.append("--client-threads must be 1 to 1024") }
        if !(1...10_000).contains(concurrency) { problems.append("--concurrency must be 1 to 10000") }
        if !(0.1...86_400).contains(timeoutSeconds) { problems.append("--timeout must be 0.1 to 86400 seconds") }
        if rooms < 1 || occupants < 1 || rooms * occupants > 100_000 { problems.append("--rooms × --occupants must be 1 to 100000") }
        if !(0...65_536).contains(payloadBytes) { problems.append("--payload-bytes must be 0 to 65536") }
        if !(1...1_000_000).contains(messages) { problems.append("--messages must be 1 to 1000000") }
        if !(1...10_000).contains(window) { problems.append("--window must be 1 to 10000") }
        if !(rate > 0 && rate <= 10_000_000) { problems.append("--rate must be above 0 and at most 10000000") }
        if !(durationSeconds > 0 && durationSeconds <= 3600) { problems.append("--duration must be above 0 and at most 3600 seconds") }
        if rate * durationSeconds > 50_000_000 { problems.append("--rate × --duration must be at most 50000000 messages") }
        if !(1...1_000_000).contains(connections) { problems.append("--connections must be 1 to 1000000") }
        if password.utf8.count < 16 && registration != .none { problems.append("--password needs at least 16 bytes (catroom's minimum)") }
        if let prefix = accountPrefix, prefix.isEmpty || !prefix.allSatisfy(\.isASCII) || prefix.contains(where: { "@/ '\"<>&".contains($0) }) {
            problems.append("--prefix must be non-empty ASCII without @, /, quotes, spaces or markup")
        }
        if !(0...60).contains(settleSeconds) { problems.append("--settle must be 0 to 60 seconds") }
        return problems
    }
}
