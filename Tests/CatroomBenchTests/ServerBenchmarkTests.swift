@testable import CatroomBench
import CatroomXML
import Foundation
import NIOCore
import Testing

/// The load generator's pieces without sockets, then every scenario, tiny, against a real
/// `catroom serve`. Numbers are checked for sanity only: timing belongs to the benchmark.
@Suite struct ServerBenchmarkTests {
    // MARK: - Wire format

    @Test func messageIDsRoundTripThroughTheTemplate() throws {
        let template = GroupchatTemplate(room: "bench@rooms.localhost", payloadBytes: 600)
        var buffer = ByteBufferAllocator().buffer(capacity: template.approximateSize)
        template.write(sender: 42, sequence: 7, sentAt: 18_446_744_073_709_551_615, into: &buffer)
        let parser = XML.StreamParser()
        _ = try parser.feed(Array("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>".utf8))
        let events = try parser.feed(Array(buffer.readableBytesView))
        guard case .element(let message)? = events.first else { Issue.record("no message in \(events)"); return }
        #expect(message.attribute("type") == "groupchat")
        #expect(message.attribute("to") == "bench@rooms.localhost")
        #expect(message.firstChild(name: "encrypted", namespace: "urn:catroom:e2e:0")?.attribute("commitment") != nil)
        let id = try #require(message.attribute("id").flatMap(MessageID.init))
        #expect(id == MessageID("cb42.7.18446744073709551615"))
        #expect(id.sender == 42 && id.sequence == 7 && id.sentAt == UInt64.max)
        #expect(buffer.readableBytes > 600 && buffer.readableBytes <= template.approximateSize)
    }

    @Test(arguments: ["", "cb", "cb1.2", "cb1.2.", "cb1..3", "xx1.2.3", "cb1.2.3.4", "cb1.2.x", "cb99999999999999999999.1.1", "cb1.2.18446744073709551616"])
    func rejectsIDsItDidNotWrite(_ id: String) {
        #expect(MessageID(id) == nil)
    }

    @Test func openLoopScheduleSpreadsMessagesOverTheDuration() {
        // 2 senders at 1000 msg/s overall for 1 s: each sends every 2 ms, the second 1 ms later.
        let first = OpenLoopSchedule(start: 1_000, end: 1_000_001_000, offset: 0, interval: 2_000_000)
        let second = OpenLoopSchedule(start: 1_000, end: 1_000_001_000, offset: 1_000_000, interval: 2_000_000)
        #expect(first.intendedCount == 500 && second.intendedCount == 500)
        #expect(second.due(0) - first.due(0) == 1_000_000)
        #expect(first.due(499) < 1_000_001_000)
    }

    // MARK: - Scanner

    static let established = "<presence from='r@rooms.localhost/a' to='a@localhost/x'><x xmlns='http://jabber.org/protocol/muc#user'>"
        + "<status code='110'/></x></presence> \n"
        + "<message from='r@rooms.localhost/a' to='a@localhost/x' type='groupchat' id='cb1.2.3'>"
        + "<encrypted xmlns='urn:catroom:e2e:0' id='eA==' commitment='eQ=='><payload>QUJD</payload></encrypted></message>"
        + "<message to='a@localhost/x' from='r@rooms.localhost' type='groupchat'><subject/></message>"
        + "<message\txmlns='jabber:client' type=\"groupchat\" id=\"cb4.5.6\" title='a>b'/>"
        + "<message type='error' id='cb1.2.3'><error type='cancel'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"
        + "<iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>"

    /// What the scanner makes of `chunks`: benchmark ids, other elements as text, and what it gave back.
    func scan(_ chunks: [ArraySlice<UInt8>]) -> (items: [String], leftover: String?) {
        var scanner = StanzaScanner()
        var items: [String] = []
        for (index, chunk) in chunks.enumerated() {
            let leftover = Array(chunk).withUnsafeBytes { bytes in
                scanner.feed(bytes) { item in
                    switch item {
                    case .groupchat(let id): items.append("groupchat \(id.sender).\(id.sequence).\(id.sentAt)")
                    case .element(let bytes): items.append(String(decoding: bytes, as: UTF8.self))
                    }
                }
            }
            // After giving up, the rest of the stream goes to the parser too.
            if let leftover { return (items, String(decoding: leftover + chunks[(index + 1)...].joined(), as: UTF8.self)) }
        }
        return (items, nil)
    }

    @Test func scannerCountsBenchmarkMessagesAndHandsOverEverythingElse() {
        let bytes = Array(Self.established.utf8)
        let whole = scan([bytes[...]])
        #expect(whole.leftover == nil)
        #expect(whole.items.count == 6)
        #expect(whole.items[0].hasPrefix("<presence ") && whole.items[0].hasSuffix("</presence>"))
        #expect(whole.items[1] == "groupchat 1.2.3" && whole.items[3] == "groupchat 4.5.6")
        #expect(whole.items[2] == "<message to='a@localhost/x' from='r@rooms.localhost' type='groupchat'><subject/></message>")
        #expect(whole.items[4].hasPrefix("<message type='error'") && whole.items[5].hasPrefix("<iq "))
        // Split at every offset, and one byte at a time: the same items.
        for offset in 1..<bytes.count {
            #expect(scan([bytes[..<offset], bytes[offset...]]).items == whole.items, "split at \(offset)")
        }
        #expect(scan(bytes.map { [$0][...] }).items == whole.items)
    }

    @Test(arguments: [
        ("</stream:stream>", "</stream:stream>"),
        ("<iq type='result' id='1'/><message><body><![CDATA[x]]></body></message>", "<message><body><![CDATA[x]]></body></message>"),
        ("<iq type='result' id='1'/>text", "text"),
        ("<!-- comment -->", "<!-- comment -->"),
    ])
    func scannerGivesUpOnWhatItDoesNotExpect(input: String, leftover: String) {
        let bytes = Array(input.utf8)
        #expect(scan([bytes[...]]).leftover == leftover)
        #expect(scan(bytes.map { [$0][...] }).leftover == leftover)
    }

    @Test func scannerParsesMessagesWithPrefixesOrOtherNamespaces() {
        for tag in ["<message xmlns='jabber:server' type='groupchat' id='cb1.1.1'/>", "<message xmlns:x='y' type='groupchat' id='cb1.1.1'/>",
                    "<message type='chat' id='cb1.1.1'/>", "<messages type='groupchat' id='cb1.1.1'/>"] {
            #expect(scan([Array(tag.utf8)[...]]).items == [tag])
        }
    }

    // MARK: - Negotiation transcript

    /// Client and server, step by step: header, features, XEP-0077, SASL PLAIN, restart, bind.
    @Test func negotiatesRegistrationPlainAndBind() throws {
        var client = StreamNegotiation(plan: .init(
            domain: "localhost", tls: .none, authentication: .plain, registration: .xep0077,
            username: "bench0", password: "a password of 16+", identity: nil))
        #expect(text(client.start()).hasPrefix("<?xml version='1.0'?><stream:stream"))

        var server = XML.StreamParser()
        func serverSays(_ xml: String) throws -> [StreamNegotiation.Action] {
            try server.feed(Array(xml.utf8)).flatMap { client.receive($0) }
        }
        let header = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='localhost' version='1.0'>"
        #expect(try serverSays(header).isEmpty)
        let registration = text(try serverSays(
            "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>"
                + "<register xmlns='http://jabber.org/features/iq-register'/></stream:features>"))
        #expect(registration.contains("<username>bench0</username>") && registration.contains("<password>a password of 16+</password>"))

        // A name taken by an earlier run counts as registered.
        let auth = text(try serverSays(
            "<iq type='error' id='reg1'><error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"))
        #expect(auth == "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGJlbmNoMABhIHBhc3N3b3JkIG9mIDE2Kw==</auth>")

        let restart = try serverSays("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
        #expect(restart.first == .restartParser && text(Array(restart.dropFirst())).hasPrefix("<?xml"))
        server = XML.StreamParser()
        #expect(try serverSays(header).isEmpty)
        let bind = text(try serverSays("<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>"))
        #expect(bind == "<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
        let bound = try serverSays(
            "<iq type='result' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>bench0@localhost/r1</jid></bind></iq>")
        #expect(bound == [.established(jid: "bench0@localhost/r1")])
    }

    @Test func failsWhenTheMechanismIsNotOffered() throws {
        var client = StreamNegotiation(plan: .init(
            domain: "localhost", tls: .none, authentication: .scramSHA256, registration: .none,
            username: "bench0", password: "a password of 16+", identity: nil))
        _ = client.start()
        let server = XML.StreamParser()
        let actions = try server.feed(Array((
            "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s1' version='1.0'>"
                + "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>"
        ).utf8)).flatMap { client.receive($0) }
        #expect(actions == [.failed("SCRAM-SHA-256 not offered (offered: PLAIN)")])
    }

    private func text(_ actions: [StreamNegotiation.Action]) -> String {
        actions.map { action in
            if case .send(let bytes) = action { String(decoding: bytes, as: UTF8.self) } else { "" }
        }.joined()
    }

    // MARK: - Against a real server

    @Test(.enabled(if: CatroomProcess.binary != nil, "needs a built catroom binary (swift build --product catroom)"),
          .timeLimit(.minutes(2)))
    func everyScenarioRunsTinyAgainstCatroom() async throws {
        let server = try CatroomProcess.start()
        defer { server.stop() }
        var options = ServerBenchmarkOptions()
        options.port = server.port
        options.serverPID = server.pid
        options.occupants = 2
        options.messages = 5
        options.window = 2
        options.rate = 100
        options.durationSeconds = 0.5
        options.connections = 10
        options.concurrency = 4
        options.settleSeconds = 0.1
        options.timeoutSeconds = 30
        options.sourceAddresses = 3
        let report = try await ServerBenchmark(options: options).run()
        #expect(report.scenarios.map(\.name) == ["throughput", "latency", "idle"])
        for scenario in report.scenarios {
            #expect(scenario.completed, "\(scenario.name): \(scenario.failure ?? "") \(scenario.errors)")
            #expect(scenario.errors.isEmpty, "\(scenario.name): \(scenario.errors)")
            #expect(scenario.server != nil && scenario.server!.rssAfterKiB > 0)
            #expect(scenario.generator.cpuSeconds > 0)
        }
        let throughput = try #require(report.scenarios[0].throughput)
        #expect(throughput.delivered == 2 * 2 * 5 && throughput.expected == 20 && throughput.messagesSent == 10)
        #expect(throughput.stanzasPerSecond > 0 && throughput.latency.count == 20 && throughput.latency.p50Milliseconds > 0)
        let latency = try #require(report.scenarios[1].latency)
        #expect(latency.intended == 50 && latency.sent > 0 && latency.pace > 0)
        #expect(latency.delivered == latency.sent * 2 && latency.latency.count == latency.delivered)
        #expect(latency.latency.p99Milliseconds >= latency.latency.p50Milliseconds && latency.latency.maxMilliseconds > 0)
        let idle = try #require(report.scenarios[2].idle)
        #expect(idle.connected == 10 && idle.failed == 0 && idle.loginsPerSecond > 0)
        #expect(idle.serverKiBPerConnection != nil && idle.serverCPUMillisecondsPerLogin != nil)

        let json = try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any]
        #expect((json?["scenarios"] as? [Any])?.count == 3)
        #expect(report.text().contains("logins/s"))
    }

    @Test func refusesAnythingButLoopback() async {
        var options = ServerBenchmarkOptions()
        options.host = "192.0.2.1"
        await #expect(throws: ServerBenchmarkError.self) { try await ServerBenchmark(options: options).run() }
    }
}

/// `catroom serve` in a child process on an ephemeral port, with every limit the tiny run needs.
struct CatroomProcess {
    let process: Process
    let port: Int
    let directory: URL
    var pid: Int32 { process.processIdentifier }

    /// The catroom built next to this test binary, else the package's `.build/debug/catroom`.
    static let binary: String? = {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var candidates = [testBinary.deletingLastPathComponent().appendingPathComponent("catroom")]
        // An .xctest bundle directory (macOS) keeps its executable deeper.
        candidates.append(testBinary.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("catroom"))
        candidates.append(packageRoot.appendingPathComponent(".build/debug/catroom"))
        return candidates.map(\.path).first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    static func start() throws -> CatroomProcess {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("catroom-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary!)
        process.arguments = [
            "serve", "--host", "127.0.0.1", "--port", "0", "--direct-tls-port", "0", "--data-dir", directory.path,
            "--allow-plain-registration", "--log-level", "warning",
        ]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // "catroom serving localhost on port 40123 (STARTTLS)…"
        var text = ""
        while !text.contains("\n") {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
        }
        guard let range = text.range(of: "on port "), let port = Int(text[range.upperBound...].prefix { $0.isNumber }) else {
            process.terminate()
            throw ServerBenchmarkError.setUpFailed("catroom serve did not start: \(text)")
        }
        return CatroomProcess(process: process, port: port, directory: directory)
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }
}
