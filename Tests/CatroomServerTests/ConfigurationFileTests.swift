import CatroomServer
import Foundation
import Testing

/// The configuration file (docs/catroom.example.yaml): every key known, every error placed.
@Suite struct ConfigurationFileTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let example = repository.appending(path: "docs/catroom.example.yaml").path

    /// The compiled defaults, with the data directory the example leaves to the environment.
    var defaults: ServerConfiguration { ServerConfiguration(domain: "localhost", dataDirectory: "/var/lib/catroom") }

    @Test func exampleFileGivesExactlyTheCompiledDefaults() throws {
        var configuration = ServerConfiguration(domain: "other.example", dataDirectory: "/var/lib/catroom")
        configuration.limits.maxOccupants = 7
        configuration.limits.stanzasPerSecond = 1
        try configuration.apply(file: Self.example)
        #expect(configuration.yaml == defaults.yaml)
    }

    @Test func exampleFileListsEveryKey() throws {
        let text = try String(contentsOfFile: Self.example, encoding: .utf8)
        let named = Set(text.split(separator: "\n").compactMap { line -> Substring? in
            let code = line.drop { $0 == " " || $0 == "#" }
            return code.firstIndex(of: ":").map { code[..<$0] }
        })
        for key in ServerConfiguration.keys {
            #expect(named.contains(key.name.split(separator: ".").last ?? ""), "\(key.name) is missing from the example")
        }
    }

    @Test func printedConfigurationReadsBackTheSame() throws {
        var changed = defaults
        changed.domain = "chat.example.org"
        changed.host = "127.0.0.1"
        changed.directTLSPort = nil
        changed.certificatePath = "/etc/tls/fullchain: with colon.pem"
        changed.keyPath = "/etc/tls/privkey.pem"
        changed.allowPlainRegistration = true
        changed.limits.stanzasPerSecond = 12.5
        changed.limits.maxOccupants = 9
        changed.metrics = ListenAddress(host: "::1", port: 9464)
        changed.logLevel = .debug
        changed.logFormat = .json
        var read = defaults
        try read.apply(yaml: changed.yaml)
        #expect(read.yaml == changed.yaml)
        #expect(read.directTLSPort == nil)
        #expect(read.certificatePath == "/etc/tls/fullchain: with colon.pem")
        #expect(read.limits.stanzasPerSecond == 12.5)
        #expect(read.metrics == ListenAddress(host: "::1", port: 9464))
        #expect(read.logFormat == .json)
    }

    @Test func emptyFileKeepsEveryDefault() throws {
        var configuration = defaults
        try configuration.apply(yaml: "# nothing set\n")
        #expect(configuration.yaml == defaults.yaml)
    }

    @Test func valuesAreTakenAsTheirKeySays() throws {
        var configuration = defaults
        try configuration.apply(yaml: "domain: no\nlimits:\n  stanzas_per_second: 50\n")
        #expect(configuration.domain == "no")
        #expect(configuration.limits.stanzasPerSecond == 50)
    }

    @Test(arguments: [
        ("port: 5222\nlimits:\n  max_occupant: 5\n", ConfigurationError(file: "test.yaml", line: 3, key: "limits.max_occupant", "is not a setting (docs/catroom.example.yaml lists them all)")),
        ("prot: 5222\n", ConfigurationError(file: "test.yaml", line: 1, key: "prot", "is not a setting (docs/catroom.example.yaml lists them all)")),
        ("port: five\n", ConfigurationError(file: "test.yaml", line: 1, key: "port", "must be an integer")),
        ("port: 70000\n", ConfigurationError(file: "test.yaml", line: 1, key: "port", "must be 0 to 65535")),
        ("allow_plain_registration: yes\n", ConfigurationError(file: "test.yaml", line: 1, key: "allow_plain_registration", "must be true or false")),
        ("domain:\n", ConfigurationError(file: "test.yaml", line: 1, key: "domain", "must be a non-empty string")),
        ("\n\nlimits:\n  max_outbound_bytes: -1\n", ConfigurationError(file: "test.yaml", line: 4, key: "limits.max_outbound_bytes", "must be 65536 to 1073741824")),
        ("port: 1\nport: 2\n", ConfigurationError(file: "test.yaml", line: 1, key: "port", "is given twice")),
        ("limits: 5\n", ConfigurationError(file: "test.yaml", line: 1, key: "limits", "must be a mapping of keys to values")),
        ("host: [a, b]\n", ConfigurationError(file: "test.yaml", line: 1, key: "host", "must be a single value")),
        ("metrics: 9464\n", ConfigurationError(file: "test.yaml", line: 1, key: "metrics", "must be HOST:PORT, such as 127.0.0.1:9464")),
        ("metrics: \"[::1]:65536\"\n", ConfigurationError(file: "test.yaml", line: 1, key: "metrics", "must be HOST:PORT, such as 127.0.0.1:9464")),
        ("log_format: xml\n", ConfigurationError(file: "test.yaml", line: 1, key: "log_format", "must be plain or json")),
        ("log_level: loud\n", ConfigurationError(file: "test.yaml", line: 1, key: "log_level", "must be trace, debug, info, notice, warning, error or critical")),
        ("- port\n", ConfigurationError(file: "test.yaml", line: 1, "must be a mapping of keys to values")),
    ])
    func refusesWithFileLineKeyAndReason(yaml: String, expected: ConfigurationError) {
        var configuration = defaults
        #expect(throws: expected) { try configuration.apply(yaml: yaml, file: "test.yaml") }
        #expect(configuration.yaml == defaults.yaml, "a refused file changes nothing")
    }

    @Test func syntaxErrorsCarryTheirLine() {
        var configuration = defaults
        do {
            try configuration.apply(yaml: "port: 5222\nhost: [\n", file: "test.yaml")
            Issue.record("accepted broken YAML")
        } catch {
            #expect(error.file == "test.yaml")
            #expect(error.line != nil)
            #expect(error.description.hasPrefix("test.yaml:"))
        }
    }

    @Test func unreadableFileIsAnError() {
        var configuration = defaults
        #expect(throws: ConfigurationError.self) { try configuration.apply(file: "/nonexistent/catroom.yaml") }
    }

    @Test func defaultsAreValid() throws {
        try defaults.validate()
    }

    @Test func roomCapFollowsTheStanzaCap() {
        var configuration = defaults
        configuration.limits.maxOccupants = 1000
        #expect(throws: ConfigurationError(key: "limits.max_occupants", "must be at most 744 for 262144-byte stanzas (xep/CR-0005 §6.3)")) {
            try configuration.validate()
        }
    }

    @Test func certificateAndKeyGoTogether() {
        var configuration = defaults
        configuration.certificatePath = "/etc/tls/fullchain.pem"
        #expect(throws: ConfigurationError(key: "key", "must be given with certificate")) { try configuration.validate() }
    }

    @Test func flagValuesOutOfRangeAreRefusedToo() {
        var configuration = defaults
        configuration.limits.maxOutboundBytes = -5
        #expect(throws: ConfigurationError(key: "limits.max_outbound_bytes", "must be 65536 to 1073741824")) { try configuration.validate() }
    }

    @Test func errorsReadAsOneLine() {
        #expect(ConfigurationError(file: "a.yaml", line: 3, key: "port", "must be an integer").description == "a.yaml:3: port: must be an integer")
        #expect(ConfigurationError(key: "key", "must be given with certificate").description == "key: must be given with certificate")
    }

    @Test(arguments: [
        ("127.0.0.1:9464", ListenAddress(host: "127.0.0.1", port: 9464)),
        ("[::1]:0", ListenAddress(host: "::1", port: 0)),
        ("localhost:80", ListenAddress(host: "localhost", port: 80)),
    ])
    func readsListenAddresses(text: String, expected: ListenAddress) {
        #expect(ListenAddress(text: text) == expected)
        #expect(ListenAddress(text: expected.description) == expected)
    }

    @Test(arguments: ["9464", ":9464", "127.0.0.1:", "127.0.0.1:x", "127.0.0.1:65536", "[::1", "[::1]]:1", "a b:1", "127.0.0.1:-1"])
    func refusesListenAddresses(text: String) {
        #expect(ListenAddress(text: text) == nil)
    }
}
