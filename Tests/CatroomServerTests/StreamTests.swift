import CatroomCrypto
import CatroomProtocol
import CatroomServer
import CatroomTesting
import CatroomXML
import Testing

/// Transcript tests for streams (RFC 6120): "alice sends / alice receives".
@Suite struct StreamTests {
    @Test func tlsIsTheOnlyFeatureUntilNegotiated() async throws {
        let server = try await TestServer.start(requireTLS: true)
        let alice = try await TestClient.connect(port: server.port)
        let features = try await alice.openStream()
        let starttls = try #require(features.firstChild(name: "starttls", namespace: Namespace.tls))
        #expect(starttls.firstChild(name: "required", namespace: Namespace.tls) != nil)
        #expect(features.firstChild(name: "mechanisms", namespace: Namespace.sasl) == nil)
        // Registration and SASL before TLS are refused (SECURITY-CASES AR-02).
        try await alice.send("<iq type='get' id='r'><query xmlns='jabber:iq:register'/></iq>")
        let error = try await alice.receiveClose()
        #expect(error?.firstChild(name: "not-authorized", namespace: Namespace.streamErrors) != nil)
        await server.shutdown()
    }

    @Test func loginOverStartTLSRegistersAuthenticatesAndBinds() async throws {
        let server = try await TestServer.start(requireTLS: true)
        let (alice, jid, identity) = try await TestClient.login(port: server.port, tls: true)
        #expect(jid.localpart == identity.publicKey.accountID)
        #expect(jid.domain == "localhost")
        try await alice.send("<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>")
        let pong = try await alice.receive()
        #expect(pong.attribute("type") == "result" && pong.attribute("id") == "p1")
        // Quiet past the parser's hibernation delay: the next stanza wakes it inside TLS.
        try await Task.sleep(for: .milliseconds(1500))
        try await alice.send("<iq type='get' id='p2'><ping xmlns='urn:xmpp:ping'/></iq>")
        #expect(try await alice.receive().attribute("id") == "p2")
        #expect(server.statistics.accounts == 1)
        await alice.close()
        try await waitUntil { server.statistics.accounts == 0 && server.statistics.connections == 0 }
        await server.shutdown()
    }

    @Test func everyMalformedRequestIsAnsweredBadRequest() async throws {
        // RFC 6120 §8.2.3: a get or set carries exactly one payload; every request gets a reply.
        let server = try await TestServer.start()
        let (alice, jid, _) = try await TestClient.login(port: server.port)
        for (id, to, iq) in [
            ("none", "localhost", "type='get'/>"),
            ("service", "rooms.localhost", "type='get'/>"),
            ("room", "lobby@rooms.localhost", "type='set'/>"),
            ("two", "localhost", "type='get'><ping xmlns='urn:xmpp:ping'/><ping xmlns='urn:xmpp:ping'/></iq>"),
            ("kind", jid.description, "type='fetch'><ping xmlns='urn:xmpp:ping'/></iq>"),
        ] {
            try await alice.send("<iq id='\(id)' to='\(to)' \(iq)")
            let reply = try await alice.receive()
            #expect(reply.attribute("id") == id && reply.errorCondition == "bad-request", "\(id): \(reply)")
        }
        await server.shutdown()
    }

    @Test func directTLSPortSpeaksTLSFromTheFirstByte() async throws {
        let server = try await TestServer.start(requireTLS: true)
        let alice = try await TestClient.connect(port: try #require(server.directTLSPort), directTLS: true)
        let features = try await alice.openStream()
        #expect(features.firstChild(name: "mechanisms", namespace: Namespace.sasl) != nil)
        #expect(features.firstChild(name: "starttls", namespace: Namespace.tls) == nil)
        await server.shutdown()
    }

    @Test func unknownHostIsAStreamError() async throws {
        let server = try await TestServer.start()
        let alice = try await TestClient.connect(port: server.port)
        try await alice.send("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='elsewhere.example' version='1.0'>")
        _ = try await alice.receiveHeader()
        let error = try await alice.receiveClose()
        #expect(error?.firstChild(name: "host-unknown", namespace: Namespace.streamErrors) != nil)
        await server.shutdown()
    }

    @Test func stanzaBeforeAuthenticationClosesTheStream() async throws {
        let server = try await TestServer.start()
        let alice = try await TestClient.connect(port: server.port)
        try await alice.openStream()
        try await alice.send("<message to='someone@localhost'><body>hi</body></message>")
        let error = try await alice.receiveClose()
        #expect(error?.firstChild(name: "not-authorized", namespace: Namespace.streamErrors) != nil)
        await server.shutdown()
    }

    @Test func discoListsEveryFeature() async throws {
        let server = try await TestServer.start()
        let (alice, _, _) = try await TestClient.login(port: server.port)
        try await alice.send("<iq type='get' id='d1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
        let info = try await alice.receive()
        let features = info.childElements.first?.children(name: "feature", namespace: Namespace.discoInfo).compactMap { $0.attribute("var") } ?? []
        for feature in [Namespace.discoInfo, Namespace.discoItems, Namespace.ping, Namespace.bundles, Namespace.keyRegistration, Namespace.encrypted] {
            #expect(features.contains(feature))
        }
        try await alice.send("<iq type='get' id='d2' to='localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>")
        let items = try await alice.receive()
        #expect(items.childElements.first?.firstChild(name: "item", namespace: Namespace.discoItems)?.attribute("jid") == "rooms.localhost")
        await server.shutdown()
    }
}


/// On a loopback test server that allows plaintext, what is accepted is also offered.
@Suite struct PlaintextFeaturesTests {
    @Test func plaintextStreamOffersTLSAndTheMechanismsItAccepts() async throws {
        let server = try await TestServer.start()
        let alice = try await TestClient.connect(port: server.port)
        let features = try await alice.openStream()
        #expect(features.firstChild(name: "starttls", namespace: Namespace.tls)?.firstChild(name: "required", namespace: Namespace.tls) == nil)
        let mechanisms = features.firstChild(name: "mechanisms", namespace: Namespace.sasl)?
            .children(name: "mechanism", namespace: Namespace.sasl).map(\.text)
        #expect(mechanisms == ["SCRAM-SHA-256"])
        #expect(features.firstChild(name: "register", namespace: Namespace.registerFeature) != nil)
        await server.shutdown()
    }
}
