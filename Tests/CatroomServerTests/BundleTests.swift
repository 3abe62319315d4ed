import CatroomCrypto
import CatroomProtocol
import CatroomServer
import CatroomTesting
import CatroomXML
import Testing

/// The prekey bundle service (xep/CR-0004; SECURITY-CASES SR-06).
@Suite struct BundleTests {
    func fetch(_ client: TestClient, _ owner: JID, id: String = "f") async throws -> XML.Element {
        try await client.send("<iq type='get' id='\(id)' to='\(owner.bare)'><bundle xmlns='urn:catroom:bundles:0'/></iq>")
        return try await client.receive()
    }

    func publish(_ client: TestClient, _ bundle: BundleElement) async throws -> XML.Element {
        try await client.send(XML.Element("iq", namespace: Namespace.client, attributes: [XML.Attribute("type", value: "set"), XML.Attribute("id", value: "p")], children: [.element(bundle.element)]))
        return try await client.receive()
    }

    @Test func eachFetchHandsOutADifferentOneTimePreKeyThenNone() async throws {
        let server = try await TestServer.start()
        let (alice, aliceJID, identity) = try await TestClient.login(port: server.port)
        let (bob, _, _) = try await TestClient.login(port: server.port)
        _ = alice
        try await alice.publishBundle(of: identity, oneTimePreKeys: 3)
        var seen = Set<UInt32>()
        for i in 0..<4 {
            let reply = try await fetch(bob, aliceJID, id: "f\(i)")
            let bundle = try BundleElement(try #require(reply.childElements.first))
            #expect(bundle.identityKey == identity.publicKey)
            #expect(bundle.oneTimePreKeys.count == (i < 3 ? 1 : 0))
            for key in bundle.oneTimePreKeys { #expect(seen.insert(key.id).inserted) }
        }
        await server.shutdown()
    }

    @Test func aFetchedBundleStartsAWorkingSession() async throws {
        let server = try await TestServer.start()
        let (alice, aliceJID, identity) = try await TestClient.login(port: server.port)
        let (bob, _, bobIdentity) = try await TestClient.login(port: server.port)
        let store = try await alice.publishBundle(of: identity, oneTimePreKeys: 2)
        let reply = try await fetch(bob, aliceJID)
        let element = try #require(reply.childElements.first)
        let bundle = try #require(try BundleElement(element).preKeyBundle)
        var bobStore = SessionStore(preKeys: PreKeyStore(identity: bobIdentity))
        try bobStore.initiateSession(with: bundle, peer: aliceJID.localpart!)
        let message = try bobStore.encrypt(Array("hi".utf8), to: aliceJID.localpart!)
        var aliceStore = SessionStore(preKeys: store)
        #expect(try aliceStore.decrypt(message, from: bobIdentity.publicKey.accountID).unprotectedBytes == Array("hi".utf8))
        await server.shutdown()
    }

    @Test func ownerIsToldWhenStockRunsLow() async throws {
        let server = try await TestServer.start()
        let (alice, aliceJID, identity) = try await TestClient.login(port: server.port)
        let (bob, _, _) = try await TestClient.login(port: server.port)
        try await alice.publishBundle(of: identity, oneTimePreKeys: 10)
        _ = try await fetch(bob, aliceJID)
        let notice = try await alice.receive()
        let lowStock = try #require(notice.firstChild(name: "low-stock", namespace: Namespace.bundles))
        #expect(notice.attribute("type") == "headline" && lowStock.attribute("remaining") == "9")
        await server.shutdown()
    }

    @Test func publicationsAreChecked() async throws {
        let server = try await TestServer.start()
        let (alice, _, identity) = try await TestClient.login(port: server.port)
        var store = PreKeyStore(identity: identity)
        let keys = store.generateOneTimePreKeys(count: 101)
        // Another identity key than the account's.
        let stranger = PreKeyStore(identity: .generate())
        #expect(try await publish(alice, BundleElement(identityKey: stranger.identity.publicKey, signedPreKey: stranger.signedPreKey, oneTimePreKeys: [])).errorCondition == "not-acceptable")
        // A signed prekey whose signature does not verify.
        let forged = SignedPreKey(id: 2, publicKey: X25519.KeyPair.generate().publicKey, signature: store.signedPreKey.signature)
        #expect(try await publish(alice, BundleElement(identityKey: identity.publicKey, signedPreKey: forged, oneTimePreKeys: [])).errorCondition == "not-acceptable")
        // More than 100 one-time prekeys.
        #expect(try await publish(alice, BundleElement(identityKey: identity.publicKey, signedPreKey: store.signedPreKey, oneTimePreKeys: keys)).errorCondition == "resource-constraint")
        // A valid one, then the same ids again.
        let first = BundleElement(identityKey: identity.publicKey, signedPreKey: store.signedPreKey, oneTimePreKeys: Array(keys[0..<5]))
        #expect(try await publish(alice, first).attribute("type") == "result")
        #expect(try await publish(alice, first).errorCondition == "not-acceptable")
        await server.shutdown()
    }

    /// CR-0004 §5.4: a refill of capacity − remaining fits; one more prekey is refused whole.
    @Test func refillsFitOnlyUpToTheCapacity() async throws {
        let server = try await TestServer.start { $0.limits.bundleFetchesPerMinute = 200 }
        let (alice, aliceJID, identity) = try await TestClient.login(port: server.port)
        let (bob, _, _) = try await TestClient.login(port: server.port)
        var store = try await alice.publishBundle(of: identity, oneTimePreKeys: BundleElement.capacity)
        for i in 0..<91 { _ = try await fetch(bob, aliceJID, id: "f\(i)") }
        let notice = try await alice.receive()
        let remaining = try #require(notice.firstChild(name: "low-stock", namespace: Namespace.bundles).flatMap(LowStockNotice.init))
        #expect(remaining == LowStockNotice(remaining: 9))
        func refill(_ count: Int) -> BundleElement {
            BundleElement(identityKey: identity.publicKey, signedPreKey: store.signedPreKey, oneTimePreKeys: store.generateOneTimePreKeys(count: count))
        }
        let refused = try await publish(alice, refill(remaining.refill + 1))
        #expect(refused.errorCondition == "resource-constraint")
        #expect(refused.firstChild(name: "error", namespace: Namespace.client)?.firstChild(name: "text", namespace: Namespace.stanzaErrors)?.text == "at most 100 one-time prekeys")
        #expect(try await publish(alice, refill(remaining.refill)).attribute("type") == "result")
        // Nothing of the refused publication was stored: the nine left, then the refill's 91.
        var handed: [UInt32] = []
        for i in 0..<101 {
            let reply = try await fetch(bob, aliceJID, id: "g\(i)")
            handed += try BundleElement(try #require(reply.childElements.first)).oneTimePreKeys.map(\.id)
        }
        #expect(handed == Array(92...100) + Array(193...283))
        await server.shutdown()
    }

    @Test func publicationsAreRateLimited() async throws {
        let server = try await TestServer.start { $0.limits.bundlePublicationsPerTenMinutes = 2 }
        let (alice, _, identity) = try await TestClient.login(port: server.port)
        var store = PreKeyStore(identity: identity)
        var outcomes: [String] = []
        for _ in 0..<3 {
            let bundle = BundleElement(identityKey: identity.publicKey, signedPreKey: store.signedPreKey, oneTimePreKeys: store.generateOneTimePreKeys(count: 1))
            let reply = try await publish(alice, bundle)
            outcomes.append(reply.attribute("type") == "result" ? "ok" : reply.errorCondition ?? "?")
        }
        #expect(outcomes == ["ok", "ok", "resource-constraint"])
        await server.shutdown()
    }

    @Test func fetchesAreRateLimitedAndUnknownOwnersNotFound() async throws {
        let server = try await TestServer.start { $0.limits.bundleFetchesPerMinute = 2 }
        let (alice, aliceJID, identity) = try await TestClient.login(port: server.port)
        let (bob, _, _) = try await TestClient.login(port: server.port)
        try await alice.publishBundle(of: identity, oneTimePreKeys: 20)
        #expect(try await fetch(bob, try JID("nobody@localhost")).errorCondition == "item-not-found")
        #expect(try await fetch(bob, aliceJID).attribute("type") == "result")
        #expect(try await fetch(bob, aliceJID).errorCondition == "resource-constraint")
        await server.shutdown()
    }
}
