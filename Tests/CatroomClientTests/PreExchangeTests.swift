import CatroomClient
import CatroomCrypto
import CatroomProtocol
@_spi(Testing) import CatroomServer
import CatroomTesting
import CatroomXML
import NIOConcurrencyHelpers
import Testing

/// CR-0006 §5.6 step 2: messages that reach a joiner without its entry before the
/// sender's hello are expected while keys are exchanged, and said once, not each time.
@Suite struct PreExchangeTests {
    @Test func messagesWithoutAnEntryBeforeTheHelloAreReportedOnce() async throws {
        let carolIdentity = IdentityKeyPair.generate()
        let carolID = carolIdentity.publicKey.accountID
        let aliceID = NIOLockedValueBox<String?>(nil)
        // For carol, the server keeps alice's hello from arriving and strips the entries
        // from alice's room messages: alice stays in the middle of the exchange for her.
        let server = try await TestServer.start { configuration in
            configuration.tamper = { element, recipient in
                guard recipient.localpart == carolID, element.name == "message",
                      let alice = aliceID.withLockedValue({ $0 }), element.attribute("from")?.hasSuffix("/" + alice) == true
                else { return [element] }
                if element.attribute("type") != "groupchat" { return [] }
                var stripped = element
                stripped.children = element.children.map { node in
                    guard case .element(var encrypted) = node, encrypted.name == "encrypted" else { return node }
                    encrypted.children.removeAll { $0.element?.name == "key" }
                    return .element(encrypted)
                }
                return [stripped]
            }
        }
        let alice = Participant(server: server, nick: "alice")
        try await alice.waitUntilReady()
        let id = try #require(await alice.client.me()?.id)
        aliceID.withLockedValue { $0 = id }
        let bob = Participant(server: server, nick: "bob")
        try await bob.waitUntilReady()
        let carol = Participant(server: server, nick: "carol", identity: carolIdentity)
        _ = try await carol.waitForMember("bob")
        for text in ["one", "two", "three"] {
            try await alice.client.say(text)
            _ = try await bob.waitForMessage(text)
        }
        // bob's message is relayed after alice's three (and her acknowledgements) to carol.
        try await bob.client.say("after alice")
        _ = try await carol.waitForMessage("after alice")
        let reasons = carol.events.compactMap { event -> String? in
            if case .undecryptable(_, let reason) = event { reason } else { nil }
        }
        #expect(reasons.count == 1)
        #expect(reasons.first?.hasPrefix("sent before your key exchange with it, so not encrypted to you") == true)
        for participant in [alice, bob, carol] { await participant.stop() }
        await server.shutdown()
    }
}

/// Nothing typed is lost in silence: an own room message the room never echoed back
/// (XEP-0045 §7.4) before the connection dropped is reported as unconfirmed.
@Suite struct UnconfirmedTests {
    @Test func aMessageWithoutTheRoomsEchoIsReportedWhenTheConnectionDrops() async throws {
        let aliceID = NIOLockedValueBox<String?>(nil)
        let swallowEcho = NIOLockedValueBox(false)
        let server = try await TestServer.start { configuration in
            configuration.tamper = { element, recipient in
                guard let alice = aliceID.withLockedValue({ $0 }), recipient.localpart == alice,
                      element.attribute("from")?.hasSuffix("/" + alice) == true, swallowEcho.withLockedValue({ $0 })
                else { return [element] }
                return []
            }
        }
        let alice = Participant(server: server, nick: "alice") { $0.reconnect.enabled = false }
        try await alice.waitUntilReady()
        let id = try #require(await alice.client.me()?.id)
        aliceID.withLockedValue { $0 = id }
        let bob = Participant(server: server, nick: "bob")
        try await bob.waitUntilReady()
        _ = try await alice.waitForMember("bob")
        try await alice.client.say("echoed")
        // bob's acknowledgement comes after the echo on alice's stream: the echo has been read.
        try await alice.waitFor("bob's acknowledgement") { if case .delivery(_, _, let pending) = $0, pending.isEmpty { true } else { nil } }
        swallowEcho.withLockedValue { $0 = true }
        try await alice.client.say("relayed, never echoed")
        _ = try await bob.waitForMessage("relayed, never echoed")
        await server.shutdown()
        let text = try await alice.waitFor("the unconfirmed message") { if case .unconfirmed(let text) = $0 { text } else { nil } }
        #expect(text == "relayed, never echoed")
        let unconfirmed = alice.events.filter { if case .unconfirmed = $0 { true } else { false } }
        #expect(unconfirmed.count == 1)
        for participant in [alice, bob] { await participant.stop() }
    }
}
