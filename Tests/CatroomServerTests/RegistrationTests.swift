import CatroomCrypto
import CatroomProtocol
import CatroomServer
import CatroomTesting
import CatroomXML
import Testing

/// Ephemeral registration with key possession (xep/CR-0003; SECURITY-CASES AR-01..AR-08).
@Suite struct RegistrationTests {
    let password = "a random password of decent length"

    @Test func formCarriesAFreshChallengeBoundToTheStream() async throws {
        let server = try await TestServer.start()
        let alice = try await connect(server.port)
        let first = try await alice.requestChallenge()
        let second = try await alice.requestChallenge()
        #expect(first.count == 32 && second.count == 32 && first != second)
        await server.shutdown()
    }

    @Test func replayedChallengeFails() async throws {
        let server = try await TestServer.start()
        let identity = IdentityKeyPair.generate()
        let alice = try await connect(server.port)
        let nonce = try await alice.requestChallenge()
        let signature = KeyPossession.signature(by: identity, domain: "localhost", streamID: alice.streamID!, nonce: nonce)
        let accepted = try await alice.submitRegistration(identityKey: identity.publicKey.bytes, signature: signature, password: password, nonce: nonce)
        #expect(accepted.attribute("type") == "result")
        // The same submission again on the same stream: the challenge is used up.
        let again = try await alice.submitRegistration(identityKey: identity.publicKey.bytes, signature: signature, password: password, nonce: nonce)
        #expect(again.errorCondition == "not-authorized")
        // And on another stream, which has a challenge of its own.
        let mallory = try await connect(server.port)
        _ = try await mallory.requestChallenge()
        let replayed = try await mallory.submitRegistration(identityKey: identity.publicKey.bytes, signature: signature, password: password, nonce: nonce)
        #expect(replayed.errorCondition == "not-authorized")
        await server.shutdown()
    }

    @Test func signatureFromAnotherStreamOrPurposeOrKeyFails() async throws {
        let server = try await TestServer.start()
        let identity = IdentityKeyPair.generate()
        let alice = try await connect(server.port)
        let other = try await connect(server.port)
        // Signed for the other stream's id.
        var nonce = try await alice.requestChallenge()
        var signature = KeyPossession.signature(by: identity, domain: "localhost", streamID: other.streamID!, nonce: nonce)
        #expect(try await alice.submitRegistration(identityKey: identity.publicKey.bytes, signature: signature, password: password, nonce: nonce).errorCondition == "not-authorized")
        // Signed for another purpose (the signed-prekey label) over the same transcript.
        nonce = try await alice.requestChallenge()
        let transcript = KeyPossession.transcript(domain: "localhost", streamID: alice.streamID!, nonce: nonce, identityKey: identity.publicKey)
        signature = identity.signature(context: Label.signedPreKey, message: transcript)
        #expect(try await alice.submitRegistration(identityKey: identity.publicKey.bytes, signature: signature, password: password, nonce: nonce).errorCondition == "not-authorized")
        await server.shutdown()
    }

    @Test func someoneElsesKeyFails() async throws {
        let server = try await TestServer.start()
        let (victim, mallory) = (IdentityKeyPair.generate(), IdentityKeyPair.generate())
        let client = try await connect(server.port)
        let nonce = try await client.requestChallenge()
        let signature = KeyPossession.signature(by: mallory, domain: "localhost", streamID: client.streamID!, nonce: nonce)
        let reply = try await client.submitRegistration(identityKey: victim.publicKey.bytes, signature: signature, password: password, nonce: nonce)
        #expect(reply.errorCondition == "not-authorized")
        #expect(server.statistics.accounts == 0)
        await server.shutdown()
    }

    @Test(arguments: [
        "0100000000000000000000000000000000000000000000000000000000000000",  // Ed25519 neutral element
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",  // order 8
        "0102",                                                              // wrong length
    ])
    func malformedKeysAreBadRequests(key: String) async throws {
        let server = try await TestServer.start()
        let client = try await connect(server.port)
        let nonce = try await client.requestChallenge()
        let reply = try await client.submitRegistration(
            identityKey: [UInt8](hex: key)!, signature: [UInt8](repeating: 1, count: 64), password: password, nonce: nonce)
        #expect(reply.errorCondition == "bad-request")
        #expect(server.statistics.accounts == 0)
        await server.shutdown()
    }

    @Test func tooManyFailuresCloseTheStream() async throws {
        let server = try await TestServer.start()
        let identity = IdentityKeyPair.generate()
        let client = try await connect(server.port)
        for attempt in 1...3 {
            let nonce = try await client.requestChallenge()
            let reply = try await client.submitRegistration(identityKey: identity.publicKey.bytes, signature: [UInt8](repeating: 7, count: 64), password: password, nonce: nonce)
            #expect(reply.errorCondition == "not-authorized", "attempt \(attempt)")
        }
        let error = try await client.receiveClose()
        #expect(error?.errorCondition == "policy-violation")
        await server.shutdown()
    }

    @Test func accountAndEverythingItOwnsVanishWithItsLastStream() async throws {
        let server = try await TestServer.start()
        let (alice, jid, identity) = try await TestClient.login(port: server.port)
        let (bob, _, _) = try await TestClient.login(port: server.port)
        try await alice.publishBundle(of: identity, oneTimePreKeys: 5)
        try await bob.send("<iq type='get' id='f1' to='\(jid.bare)'><bundle xmlns='urn:catroom:bundles:0'/></iq>")
        #expect(try await bob.receive().attribute("type") == "result")
        #expect(server.statistics.accounts == 2)
        await alice.close()
        try await waitUntil { server.statistics.accounts == 1 }
        // Nothing of alice is offered afterwards.
        try await bob.send("<iq type='get' id='f' to='\(jid.bare)'><bundle xmlns='urn:catroom:bundles:0'/></iq>")
        #expect(try await bob.receive().errorCondition == "item-not-found")
        #expect(server.statistics.connections == 1)
        await server.shutdown()
    }

    @Test func sameKeyOnANewStreamReplacesTheOld() async throws {
        let server = try await TestServer.start()
        let identity = IdentityKeyPair.generate()
        let (first, _, _) = try await TestClient.login(port: server.port, identity: identity)
        let (second, jid, _) = try await TestClient.login(port: server.port, identity: identity)
        #expect(jid.localpart == identity.publicKey.accountID)
        let error = try await first.receiveClose()
        #expect(error?.errorCondition == "conflict")
        try await second.send("<iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>")
        #expect(try await second.receive().attribute("type") == "result")
        #expect(server.statistics.accounts == 1)
        await server.shutdown()
    }

    @Test func plainRegistrationOnlyWhenSwitchedOn() async throws {
        let closed = try await TestServer.start()
        let client = try await connect(closed.port)
        try await client.send("<iq type='set' id='p'><query xmlns='jabber:iq:register'><username>alice</username><password>\(password)</password></query></iq>")
        #expect(try await client.receive().errorCondition == "not-allowed")
        await closed.shutdown()

        let open = try await TestServer.start(plainRegistration: true)
        let alice = try await connect(open.port)
        try await alice.send("<iq type='set' id='p'><query xmlns='jabber:iq:register'><username>alice</username><password>\(password)</password></query></iq>")
        #expect(try await alice.receive().attribute("type") == "result")
        try await alice.send("<iq type='set' id='q'><query xmlns='jabber:iq:register'><username>alice</username><password>\(password)</password></query></iq>")
        #expect(try await alice.receive().errorCondition == "conflict")
        // Names shaped like key-derived ids are reserved for them.
        let squatter = IdentityKeyPair.generate().publicKey.accountID
        try await alice.send("<iq type='set' id='r'><query xmlns='jabber:iq:register'><username>\(squatter)</username><password>\(password)</password></query></iq>")
        #expect(try await alice.receive().errorCondition == "not-acceptable")
        try await alice.authenticate(user: "alice", password: password)
        #expect(try await alice.bind().description.hasPrefix("alice@localhost/"))
        await open.shutdown()
    }

    @Test func registrationFloodFromOneAddressIsThrottled() async throws {
        let server = try await TestServer.start { $0.limits.registrationsPerMinute = 3 }
        var outcomes: [String] = []
        for _ in 0..<5 {
            let identity = IdentityKeyPair.generate()
            let client = try await connect(server.port, from: "127.0.0.2")
            let nonce = try await client.requestChallenge()
            let signature = KeyPossession.signature(by: identity, domain: "localhost", streamID: client.streamID!, nonce: nonce)
            let reply = try await client.submitRegistration(identityKey: identity.publicKey.bytes, signature: signature, password: password, nonce: nonce)
            outcomes.append(reply.attribute("type") == "result" ? "ok" : reply.errorCondition ?? "?")
        }
        #expect(outcomes == ["ok", "ok", "ok", "resource-constraint", "resource-constraint"])
        // Another address is not affected (loopback is not exempt, but limits are per address).
        let (_, jid, _) = try await TestClient.login(port: server.port, from: "127.0.0.3")
        #expect(jid.localpart != nil)
        await server.shutdown()
    }

    /// One registration attempt from `address`: "ok" or the error condition; the client stays open.
    func register(from address: String, on server: Server) async throws -> (TestClient, String) {
        let identity = IdentityKeyPair.generate()
        let client = try await connect(server.port, from: address)
        let nonce = try await client.requestChallenge()
        let signature = KeyPossession.signature(by: identity, domain: "localhost", streamID: client.streamID!, nonce: nonce)
        let reply = try await client.submitRegistration(identityKey: identity.publicKey.bytes, signature: signature, password: password, nonce: nonce)
        return (client, reply.attribute("type") == "result" ? "ok" : reply.errorCondition ?? "?")
    }

    @Test func registrationsFromManyAddressesAreThrottledTogether() async throws {
        let server = try await TestServer.start { $0.limits.totalRegistrationsPerMinute = 3 }
        var outcomes: [String] = []
        for n in 10..<15 { outcomes.append(try await register(from: "127.0.0.\(n)", on: server).1) }
        #expect(outcomes == ["ok", "ok", "ok", "resource-constraint", "resource-constraint"])
        await server.shutdown()
    }

    @Test func liveAccountsAreCapped() async throws {
        let server = try await TestServer.start { $0.limits.maxAccounts = 2 }
        let (first, one) = try await register(from: "127.0.0.20", on: server)
        let (_, two) = try await register(from: "127.0.0.21", on: server)
        let (_, three) = try await register(from: "127.0.0.22", on: server)
        #expect([one, two, three] == ["ok", "ok", "resource-constraint"])
        #expect(server.statistics.accounts == 2)
        // An ephemeral account ends with its connection, and frees its place.
        await first.close()
        try await waitUntil { server.statistics.accounts == 1 }
        #expect(try await register(from: "127.0.0.23", on: server).1 == "ok")
        await server.shutdown()
    }
}
