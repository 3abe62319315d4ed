import Logging

extension ServerConfiguration {
    /// Every key of the configuration file, in the order `--check-config` prints them; a
    /// dotted name lives in that section. One line per setting, each with the values it
    /// accepts: a new setting is one more line here and in docs/catroom.example.yaml.
    /// The test-only fields (`allowPlaintext`, `wireTapPath`, `tamper`) have no key.
    public static let keys: [Key] = [
        Key("domain", \.domain),
        Key("host", \.host),
        Key("port", \.port, 0...65535),
        Key("direct_tls_port", \.directTLSPortOrZero, 0...65535),
        Key("data_directory", \.dataDirectory),
        Key("certificate", \.certificatePath),
        Key("key", \.keyPath),
        Key("allow_plain_registration", \.allowPlainRegistration),
        Key("metrics", \.metrics),
        Key("log_level", \.logLevel),
        Key("log_format", \.logFormat),
        // A 16 KiB payload and one recipient's key entry at least, xep/CR-0005 §6.3.
        Key("limits.max_stanza_bytes", \.limits.maxStanzaBytes, 16384 + 330...16 << 20, "xep/CR-0005 §6.3"),
        Key("limits.pre_authentication_seconds", \.limits.preAuthenticationSeconds, 1...3600),
        Key("limits.stanzas_per_second", \.limits.stanzasPerSecond, 0.1...1_000_000),
        Key("limits.stanza_burst", \.limits.stanzaBurst, 1...1_000_000),
        Key("limits.max_connections", \.limits.maxConnections, 1...1_000_000),
        Key("limits.connections_per_address", \.limits.connectionsPerAddress, 1...1_000_000),
        Key("limits.connection_attempts_per_minute", \.limits.connectionAttemptsPerMinute, 1...1_000_000),
        Key("limits.registrations_per_minute", \.limits.registrationsPerMinute, 1...1_000_000),
        Key("limits.total_registrations_per_minute", \.limits.totalRegistrationsPerMinute, 1...1_000_000),
        Key("limits.max_accounts", \.limits.maxAccounts, 1...10_000_000),
        Key("limits.max_rooms_per_account", \.limits.maxRoomsPerAccount, 1...100_000),
        Key("limits.max_outbound_bytes", \.limits.maxOutboundBytes, 64 << 10...1 << 30),
        // And at most (max_stanza_bytes - 16384) / 330, checked by `validate()`.
        Key("limits.max_occupants", \.limits.maxOccupants, 1...100_000, "xep/CR-0005 §6.3"),
        Key("limits.max_streams_per_account", \.limits.maxStreamsPerAccount, 1...1000),
        Key("limits.max_failed_attempts", \.limits.maxFailedAttempts, 1...100),
        Key("limits.keepalive_seconds", \.limits.keepaliveSeconds, 1...3600),
        Key("limits.bundle_publications_per_ten_minutes", \.limits.bundlePublicationsPerTenMinutes, 1...10_000),
        Key("limits.bundle_fetches_per_minute", \.limits.bundleFetchesPerMinute, 1...1_000_000),
    ]

    /// The file's `direct_tls_port: 0`, like the flag, means none.
    var directTLSPortOrZero: Int {
        get { directTLSPort ?? 0 }
        set { directTLSPort = newValue == 0 ? nil : newValue }
    }

    /// The first setting outside what its key accepts, as `key: reason`.
    public func validateEachSetting() throws(ConfigurationError) {
        for key in Self.keys {
            if let problem = key.problem(self) { throw ConfigurationError(key: key.name, problem) }
        }
    }

    /// `validateEachSetting()`, then the rules between settings.
    public func validate() throws(ConfigurationError) {
        try validateEachSetting()
        guard (certificatePath == nil) == (keyPath == nil) else {
            throw ConfigurationError(key: certificatePath == nil ? "certificate" : "key", "must be given with \(certificatePath == nil ? "key" : "certificate")")
        }
        // One fan-out message must fit one stanza: about 330 bytes per recipient plus a
        // 16 KiB payload (CR-0005 §6.3), which also keeps above RFC 6120 §13.12's 10,000 bytes.
        let roomCap = (limits.maxStanzaBytes - 16384) / 330
        guard limits.maxOccupants <= roomCap else {
            throw ConfigurationError(
                key: "limits.max_occupants",
                "must be at most \(roomCap) for \(limits.maxStanzaBytes)-byte stanzas (xep/CR-0005 §6.3)")
        }
    }

    /// One setting: its name in the file, how to read and write it as text, and what it accepts.
    public struct Key: Sendable {
        public let name: String
        let read: @Sendable (ServerConfiguration) -> String?
        /// The reason the text is refused, if it is.
        let write: @Sendable (inout ServerConfiguration, String) -> String?
        let problem: @Sendable (ServerConfiguration) -> String?

        /// `source`, if given, is where the range comes from.
        init<V: KeyValue & Comparable>(
            _ name: String, _ path: WritableKeyPath<ServerConfiguration, V> & Sendable, _ range: ClosedRange<V>, _ source: String? = nil
        ) {
            let rule = "must be \(range.lowerBound.text) to \(range.upperBound.text)" + (source.map { " (\($0))" } ?? "")
            self.init(name, read: { $0[keyPath: path].text }, write: { $0[keyPath: path] = $1 }) {
                range.contains($0[keyPath: path]) ? nil : rule
            }
        }

        init<V: KeyValue>(_ name: String, _ path: WritableKeyPath<ServerConfiguration, V> & Sendable) {
            self.init(name, read: { $0[keyPath: path].text }, write: { $0[keyPath: path] = $1 })
        }

        /// Unset when nil: the file can only give it a value.
        init<V: KeyValue>(_ name: String, _ path: WritableKeyPath<ServerConfiguration, V?> & Sendable) {
            self.init(name, read: { $0[keyPath: path]?.text }, write: { $0[keyPath: path] = $1 })
        }

        private init<V: KeyValue>(
            _ name: String, read: @escaping @Sendable (ServerConfiguration) -> String?,
            write: @escaping @Sendable (inout ServerConfiguration, V) -> Void,
            problem: @escaping @Sendable (ServerConfiguration) -> String? = { _ in nil }
        ) {
            self.name = name
            self.read = read
            self.write = { configuration, text in
                guard let value = V(text: text) else { return "must be \(V.kind)" }
                write(&configuration, value)
                return nil
            }
            self.problem = problem
        }
    }
}

/// The types a setting can have, each written one way: YAML's implicit typing (`no` as
/// false, `0x10` as 16) is not used, so a value means what its key says it means.
protocol KeyValue: Sendable {
    init?(text: String)
    var text: String { get }
    /// What the text must be, for errors: "an integer".
    static var kind: String { get }
}

extension Int: KeyValue {
    init?(text: String) { self.init(text, radix: 10) }
    var text: String { String(self) }
    static var kind: String { "an integer" }
}

extension Int64: KeyValue {
    init?(text: String) { self.init(text, radix: 10) }
    var text: String { String(self) }
    static var kind: String { "an integer" }
}

extension Double: KeyValue {
    init?(text: String) {
        guard let number = Double(text), number.isFinite else { return nil }
        self = number
    }
    var text: String { String(self) }
    static var kind: String { "a number" }
}

extension Bool: KeyValue {
    init?(text: String) { self.init(text) }
    var text: String { String(self) }
    static var kind: String { "true or false" }
}

extension String: KeyValue {
    init?(text: String) {
        guard !text.isEmpty else { return nil }
        self = text
    }
    var text: String { self }
    static var kind: String { "a non-empty string" }
}

extension ListenAddress: KeyValue {
    var text: String { description }
    static var kind: String { "HOST:PORT, such as 127.0.0.1:9464" }
}

extension Logger.Level: KeyValue {
    init?(text: String) { self.init(rawValue: text) }
    var text: String { rawValue }
    static var kind: String { "trace, debug, info, notice, warning, error or critical" }
}

extension ServerConfiguration.LogFormat: KeyValue {
    init?(text: String) { self.init(rawValue: text) }
    var text: String { rawValue }
    static var kind: String { "plain or json" }
}
