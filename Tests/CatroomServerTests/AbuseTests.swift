import CatroomCrypto
import CatroomProtocol
import CatroomServer
import CatroomTesting
import CatroomXML
import NIOCore
import NIOPosix
import Testing

/// Bad input and resource abuse (SECURITY-CASES XS, SR): each is refused or bounded
/// with the right error while a well-behaved client on the same server keeps working.
@Suite struct AbuseTests {
    static let header = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>"

    /// A logged-in client that pings and must get its answer: proof the server is still fine.
    func stillServes(_ client: TestClient, id: String = "alive") async throws {
        try await client.send("<iq type='get' id='\(id)'><ping xmlns='urn:xmpp:ping'/></iq>")
        let pong = try await client.receive(until: { $0.attribute("id") == id }).last
        #expect(pong?.attribute("type") == "result")
    }

    /// Sends `bytes` on a fresh connection and returns the stream error condition.
    func streamError(after bytes: [UInt8], port: Int, header: Bool = true) async throws -> String? {
        let client = try await TestClient.connect(port: port)
        if header { try await client.openStream() }
        try await client.send(bytes: bytes)
        return try await client.receiveClose()?.errorCondition
    }

    @Test(arguments: [
        ("<!DOCTYPE lol [<!ENTITY lol 'lol'><!ENTITY lol2 '&lol;&lol;&lol;&lol;'>]><lol>&lol2;</lol>", "restricted-xml", "restricted-xml"),
        ("<!-- a comment --><message/>", "restricted-xml", "restricted-xml"),
        ("<?pi here?><message/>", "restricted-xml", "restricted-xml"),
        ("<message><body>&undefined;</body></message>", "not-well-formed", "not-well-formed"),
        ("<message><body>ok</body></nope>", "not-well-formed", "not-well-formed"),
        ("<iq type='get' id='1' id='2'/>", "not-well-formed", "not-well-formed"),
        // Well-formed but not a stanza: before authentication nothing but negotiation is allowed.
        ("<unknown xmlns='jabber:client'/>", "not-authorized", "unsupported-stanza-type"),
    ])
    func restrictedOrMalformedXMLEndsOnlyThatStream(input: String, before: String, after: String) async throws {
        let server = try await TestServer.start()
        let (bystander, _, _) = try await TestClient.login(port: server.port)
        // Before authentication (the parser's own checks) ...
        #expect(try await streamError(after: Array(input.utf8), port: server.port) == before)
        // ... and after it.
        let (victim, _, _) = try await TestClient.login(port: server.port)
        try await victim.send(input)
        #expect(try await victim.receiveClose()?.errorCondition == after)
        try await stillServes(bystander)
        await server.shutdown()
    }

    @Test func invalidUTF8IsNotWellFormed() async throws {
        let server = try await TestServer.start()
        for bytes: [UInt8] in [[0xC0, 0xAF], [0x80], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xFF]] {
            let input = Array("<message><body>".utf8) + bytes + Array("</body></message>".utf8)
            #expect(try await streamError(after: input, port: server.port) == "not-well-formed")
        }
        await server.shutdown()
    }

    @Test func junkBeforeTheHeaderHTTPAndTLSOnThePlainPort() async throws {
        let server = try await TestServer.start()
        let inputs: [[UInt8]] = [
            Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8),
            [0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03],  // a TLS ClientHello
            Array("garbage".utf8),
        ]
        for input in inputs {
            let condition = try await streamError(after: input, port: server.port, header: false)
            #expect(["not-well-formed", "invalid-namespace", "unsupported-encoding"].contains(condition ?? "none"), "\(input.prefix(4))")
        }
        try await waitUntil { server.statistics.connections == 0 }
        await server.shutdown()
    }

    @Test func oversizedStanzaIsAPolicyViolation() async throws {
        let server = try await TestServer.start { $0.limits.maxStanzaBytes = 16 * 1024 }
        let (bystander, _, _) = try await TestClient.login(port: server.port)
        let (victim, _, _) = try await TestClient.login(port: server.port)
        // An endless text node, sent in pieces: the server stops it without buffering it all.
        try await victim.send("<message to='x@localhost'><body>")
        let chunk = String(repeating: "A", count: 4096)
        for _ in 0..<8 { try? await victim.send(chunk) }
        let error = try await victim.receiveClose()
        #expect(error?.errorCondition == "policy-violation")
        #expect(error?.firstChild(name: "stanza-too-big", namespace: Namespace.xmppErrors) != nil)
        try await stillServes(bystander)
        await server.shutdown()
    }

    @Test func deepNestingIsAPolicyViolation() async throws {
        let server = try await TestServer.start()
        let input = String(repeating: "<a>", count: 100_000)
        #expect(try await streamError(after: Array(input.utf8), port: server.port) == "policy-violation")
        await server.shutdown()
    }

    @Test func slowlorisIsCutOffAtThePreAuthenticationDeadline() async throws {
        let server = try await TestServer.start { $0.limits.preAuthenticationSeconds = 3 }
        // A legitimate client logs in first: on a loaded machine its own login could outlast 3 s.
        let (bystander, _, _) = try await TestClient.login(port: server.port)
        let slow = try await TestClient.connect(port: server.port)
        for byte in Array("<stream:".utf8) {
            // On a loaded machine the deadline may pass mid-trickle: the close is then already here.
            guard (try? await slow.send(bytes: [byte])) != nil else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let error = try await slow.receiveClose(timeout: .seconds(10))
        #expect(error?.errorCondition == "connection-timeout")
        try await stillServes(bystander)
        await server.shutdown()
    }

    @Test func connectionFloodFromOneAddressIsCapped() async throws {
        let server = try await TestServer.start { $0.limits.connectionsPerAddress = 5 }
        var flood: [TestClient] = []
        for _ in 0..<5 { flood.append(try await connect(server.port, from: "127.0.0.4")) }
        // The sixth from that address is refused at once with a stream error (RFC 6120 §4.9.3.12).
        let sixth = try await TestClient.connect(port: server.port, from: "127.0.0.4")
        let refusal = try await sixth.receiveClose()
        #expect(refusal?.errorCondition == "policy-violation")
        #expect(refusal?.firstChild(name: "text", namespace: Namespace.streamErrors)?.text.isEmpty == false)
        // Other addresses are served.
        let (bystander, _, _) = try await TestClient.login(port: server.port, from: "127.0.0.5")
        try await stillServes(bystander)
        for client in flood { await client.close() }
        await server.shutdown()
    }

    @Test func connectionsFromManyAddressesAreCappedTogether() async throws {
        let server = try await TestServer.start { $0.limits.maxConnections = 3 }
        var open: [TestClient] = []
        for n in 30..<33 { open.append(try await connect(server.port, from: "127.0.0.\(n)")) }
        // The fourth, from a fresh address, is told the server is full (RFC 6120 §4.9.3.17).
        let fourth = try await TestClient.connect(port: server.port, from: "127.0.0.33")
        let refusal = try await fourth.receiveClose()
        #expect(refusal?.errorCondition == "resource-constraint")
        #expect(refusal?.firstChild(name: "text", namespace: Namespace.streamErrors)?.text.isEmpty == false)
        #expect(server.statistics.connections == 3)
        // Once one closes, a new connection is served.
        await open.removeFirst().close()
        try await waitUntil { server.statistics.connections == 2 }
        let (bystander, _, _) = try await TestClient.login(port: server.port, from: "127.0.0.34")
        try await stillServes(bystander)
        for client in open { await client.close() }
        await server.shutdown()
    }

    @Test func stanzaFloodIsSlowedNotBuffered() async throws {
        let server = try await TestServer.start {
            $0.limits.stanzasPerSecond = 100
            $0.limits.stanzaBurst = 50
        }
        let (flooder, _, _) = try await TestClient.login(port: server.port)
        let (bystander, _, _) = try await TestClient.login(port: server.port)
        let count = 300
        try await flooder.send(String(repeating: "<iq type='get' id='f'><ping xmlns='urn:xmpp:ping'/></iq>", count: count))
        // The bystander is answered while the flood is being throttled.
        try await stillServes(bystander)
        var answered = 0
        let start = ContinuousClock.now
        while answered < count {
            _ = try await flooder.receive(timeout: .seconds(10))
            answered += 1
        }
        // 300 stanzas at 100/s after a burst of 50 cannot all be answered in under two seconds.
        #expect(ContinuousClock.now - start > .seconds(2))
        await server.shutdown()
    }

    @Test func slowReaderDuringFanOutIsDisconnected() async throws {
        let server = try await TestServer.start {
            $0.limits.maxOutboundBytes = 128 * 1024
            $0.limits.stanzasPerSecond = 100_000
            $0.limits.stanzaBurst = 100_000
        }
        let room = "flood@rooms.localhost"
        let (sender, senderJID, _) = try await TestClient.login(port: server.port)
        let (reader, readerJID, _) = try await TestClient.login(port: server.port)
        let (slow, slowJID, _) = try await TestClient.login(port: server.port, receiveBufferSize: 4096)
        for (client, jid) in [(sender, senderJID), (reader, readerJID), (slow, slowJID)] {
            try await client.send("<presence to='\(room)/\(jid.localpart!)'/>")
            _ = try await client.receive(until: { $0.name == "message" })
        }
        // The slow member stops reading; its socket buffers are small.
        try await slow.channel.setOption(ChannelOptions.autoRead, value: false).get()
        let payload = String(repeating: "QUFB", count: 512)
        let message = "<message to='\(room)' type='groupchat'><encrypted xmlns='urn:catroom:e2e:0' id='AAAAAAAAAAAAAAAAAAAAAA==' commitment='AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='><payload>\(payload)</payload></encrypted></message>"
        var received = 0
        for _ in 0..<40 {
            try await sender.send(String(repeating: message, count: 100))
            // The attentive reader keeps up.
            for _ in 0..<100 { _ = try await reader.receive(); received += 1 }
            if server.statistics.connections < 3 { break }
        }
        try await waitUntil { server.statistics.connections == 2 }
        try await stillServes(reader)
        #expect(received >= 100)
        await server.shutdown()
    }
}
