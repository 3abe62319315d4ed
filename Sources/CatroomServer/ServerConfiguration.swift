import CatroomProtocol
import CatroomXML
import Logging

/// Everything `catroom serve` can be told, with the defaults a self-hoster can trust (DESIGN §5).
public struct ServerConfiguration: Sendable {
    /// The XMPP domain; rooms live on `rooms.<domain>`.
    public var domain: String
    public var host = "::"
    /// Client-to-server port with STARTTLS (RFC 6120).
    public var port = 5222
    /// Direct-TLS port (XEP-0368); nil for none.
    public var directTLSPort: Int? = 5223
    /// Where the generated certificate and key live.
    public var dataDirectory: String
    /// The operator's own certificate chain and key (PEM); generated when nil.
    public var certificatePath: String?
    public var keyPath: String?
    /// Plaintext streams, for loopback tests only: refused on any other address.
    public var allowPlaintext = false
    /// Plain XEP-0077 registration (username and password), off unless the operator wants it.
    public var allowPlainRegistration = false
    public var limits = Limits()
    /// Where `/metrics` (Prometheus text) is served; nil, the default, for nowhere.
    public var metrics: ListenAddress?
    /// What `catroom serve` logs to standard error, and as plain or JSON lines: account
    /// ids and room names only at `debug` and `trace` (docs/admin-guide.md).
    public var logLevel = Logger.Level.info
    public var logFormat = LogFormat.plain
    /// Test only: a file that receives every byte the server reads and writes after TLS,
    /// to check that no nickname or plaintext ever reaches it (docs/threat-model.md).
    public var wireTapPath: String?
    /// Test only: a server turned malicious. Sees every stanza about to be delivered
    /// and returns what to deliver instead (nothing, a changed copy, several copies).
    @_spi(Testing) public var tamper: (@Sendable (_ stanza: CatroomXML.XML.Element, _ recipient: CatroomProtocol.JID) -> [CatroomXML.XML.Element])?

    public var roomDomain: String { "rooms.\(domain)" }

    public init(domain: String, dataDirectory: String) {
        self.domain = domain
        self.dataDirectory = dataDirectory
    }

    public enum LogFormat: String, Sendable, CaseIterable {
        case plain, json
    }

    /// Every limit in one place.
    public struct Limits: Sendable {
        /// Largest stanza accepted, in bytes (RFC 6120 §13.12 requires at least 10,000;
        /// `catroom serve` at least 16,714, a payload and one recipient, CR-0005 §6.3).
        public var maxStanzaBytes = 256 * 1024
        /// Seconds a connection may stay unauthenticated (SECURITY-CASES SR-01).
        public var preAuthenticationSeconds: Int64 = 30
        /// Stanzas per second a connection may send on average, and in a burst; beyond that reading pauses.
        public var stanzasPerSecond = 200.0
        public var stanzaBurst = 400.0
        /// Concurrent connections from all addresses; matches `LimitNOFILE` in a service
        /// unit with room to spare (each connection is one descriptor).
        public var maxConnections = 10_000
        /// Concurrent connections from one IP address, loopback included.
        public var connectionsPerAddress = 32
        /// New connections per minute from one IP address.
        public var connectionAttemptsPerMinute = 120
        /// Registrations per minute from one IP address.
        public var registrationsPerMinute = 20
        /// Registrations per minute from all addresses: each costs a signature check and
        /// a PBKDF2 (about 3 ms), so this keeps a registration flood under a third of a core.
        public var totalRegistrationsPerMinute = 6000
        /// Accounts alive at once, ephemeral and plain.
        public var maxAccounts = 10_000
        /// Bytes queued for one connection before it is closed as too slow a reader.
        public var maxOutboundBytes = 2 * 1024 * 1024
        /// Occupants of one room.
        public var maxOccupants = 200
        /// Rooms one account is in at once, over all its streams.
        public var maxRoomsPerAccount = 50
        /// Authenticated streams of one account.
        public var maxStreamsPerAccount = 4
        /// Failed registration or authentication attempts before a stream is closed.
        public var maxFailedAttempts = 3
        /// Seconds between whitespace keepalives to an idle client.
        public var keepaliveSeconds: Int64 = 60
        /// Bundle publications per account, per ten minutes.
        public var bundlePublicationsPerTenMinutes = 6
        /// Bundle fetches per account, per minute.
        public var bundleFetchesPerMinute = 120

        public init() {}
    }
}

/// A `HOST:PORT` to listen on, such as `127.0.0.1:9464` or `[::1]:9464`.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Nil unless `text` is a host, a colon and a port of 0 to 65535; an IPv6 host in brackets.
    public init?(text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...], radix: 10),
              (0...65535).contains(port)
        else { return nil }
        var host = text[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty, !host.contains("[") && !host.contains("]") && !host.contains(" ") else { return nil }
        self.init(host: String(host), port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
