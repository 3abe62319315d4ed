import CatroomClient
import CatroomCrypto
import CatroomProtocol
@_spi(Testing) import CatroomServer
import CatroomTesting
import CatroomXML
import NIOConcurrencyHelpers
import Testing

/// Invite secrets (CR-0008) between real clients on a real server on loopback.
@Suite struct InviteTests {
    func notEncryptedToMe(_ participant: Participant, from nick: String) async throws {
        try await participant.waitFor("a message from \(nick) not encrypted to it") { event in
            if case .undecryptable(let from, let reason) = event, from == nick, reason == "not encrypted to you" { true } else { nil }
        }
    }

    @Test func threeMembersWithTheSecretSeeEachOtherInvitedAndTalk() async throws {
        let server = try await TestServer.start()
        let secret = InviteSecret.generate()
        let alice = Participant(server: server, nick: "alice", invite: secret)
        try await alice.waitUntilReady()
        let bob = Participant(server: server, nick: "bob", invite: secret)
        try await bob.waitUntilReady()
        let carol = Participant(server: server, nick: "carol", invite: secret)
        try await carol.waitUntilReady()
        #expect(try await alice.waitForMember("carol").invited == true)
        #expect(try await bob.waitForMember("carol").invited == true)
        for participant in [alice, bob, carol] {
            let others = await participant.client.members()
            #expect(others.count == 2 && others.allSatisfy { $0.invited == true })
            #expect(await participant.client.me()?.invited == true)
        }
        try await alice.client.say("welcome, both of you")
        for participant in [bob, carol] {
            let message = try await participant.waitForMessage("welcome, both of you")
            #expect(message.from.invited == true && message.missingRecipients.isEmpty)
        }
        try await carol.client.whisper("just to you", to: "bob")
        _ = try await bob.waitForMessage("just to you")
        // `/invite` prints the command that joins this room with the same secret.
        guard case .notice(let text) = await alice.client.perform(try #require(Command.parse("/invite"))) else { throw Failure("no notice") }
        #expect(text.hasSuffix(
            "catroom join lobby --invite \(secret.encoded) --server 127.0.0.1 --port \(server.port) --domain localhost --insecure --plaintext"))
        for participant in [alice, bob, carol] { await participant.stop() }
        await server.shutdown()
    }

    /// dave has no secret and erin another one: both are not invited for the members
    /// holding the room's secret, and none of their room or private messages reach them.
    @Test func membersWithoutTheSecretAreNotInvitedAndSentNothing() async throws {
        let server = try await TestServer.start()
        let secret = InviteSecret.generate()
        let alice = Participant(server: server, nick: "alice", invite: secret)
        try await alice.waitUntilReady()
        let bob = Participant(server: server, nick: "bob", invite: secret)
        try await bob.waitUntilReady()
        let dave = Participant(server: server, nick: "dave")
        try await dave.waitUntilReady()
        let erin = Participant(server: server, nick: "erin", invite: InviteSecret.generate())
        try await erin.waitUntilReady()
        for participant in [alice, bob] {
            #expect(try await participant.waitForMember("dave").invited == false)
            #expect(try await participant.waitForMember("erin").invited == false)
        }
        // Without a secret, dave checks nothing; erin's secret is not the room's.
        #expect(await dave.client.members().allSatisfy { $0.invited == nil })
        #expect(await erin.client.members().allSatisfy { $0.invited == false })

        try await alice.client.say("for the invited")
        let own = try await alice.waitFor("alice's own line") { if case .message(let m) = $0, m.isOwn { m } else { nil } }
        #expect(own.missingRecipients == ["dave", "erin"])
        let atBob = try await bob.waitForMessage("for the invited")
        #expect(atBob.missingRecipients == ["dave", "erin"])
        try await notEncryptedToMe(dave, from: "alice")
        try await notEncryptedToMe(erin, from: "alice")
        let reply = await alice.client.perform(.message(to: "dave", text: "psst"))
        guard case .error(let text) = reply else { throw Failure("a side chat to dave was not refused: \(reply)") }
        #expect(text.contains("not invited"))

        // dave still talks; invited members show it as not invited and send nothing back.
        try await dave.client.say("hello from dave")
        let fromDave = try await alice.waitForMessage("hello from dave")
        #expect(fromDave.from.invited == false)
        #expect(dave.messages().allSatisfy { $0.from.nick != "alice" && $0.from.nick != "bob" })
        #expect(erin.messages().allSatisfy { $0.from.nick != "alice" && $0.from.nick != "bob" })
        guard case .notice(let text) = await dave.client.perform(.invite) else { throw Failure("no notice") }
        #expect(text.contains("without an invite secret"))
        for participant in [alice, bob, dave, erin] { await participant.stop() }
        await server.shutdown()
    }

    /// A key-substituting server at first contact. The server (the tamper hook) hides
    /// alice from every later joiner and every later joiner from alice, and runs a
    /// client of its own, mallory, that joins with no secret and calls itself "alice".
    /// bob, joining with the room's secret, then sees exactly what a substituting
    /// server shows: one occupant, whose bundle carries a key the server holds and
    /// whose id derives from it, and whose encrypted hello says "alice". The test
    /// proves that bob marks that "alice" not invited and sends it nothing, while a
    /// joiner without the secret (carol, the control) is fooled as today. It does not
    /// relay mallory's sessions to the real alice; a full relay would face the same
    /// check from alice's side, as `membersWithoutTheSecretAreNotInvitedAndSentNothing` shows.
    @Test func aKeySubstitutedAtFirstContactIsNotInvited() async throws {
        let isolated = NIOLockedValueBox<String?>(nil)
        let server = try await TestServer.start { configuration in
            configuration.tamper = { element, recipient in
                guard element.name == "presence", let alice = isolated.withLockedValue({ $0 }),
                      let from = element.attribute("from").flatMap({ try? JID($0) }), let occupant = from.resource
                else { return [element] }
                return (occupant == alice) == (recipient.localpart == alice) ? [element] : []
            }
        }
        let secret = InviteSecret.generate()
        let alice = Participant(server: server, nick: "alice", invite: secret)
        try await alice.waitUntilReady()
        let aliceID = try #require(await alice.client.me()?.id)
        isolated.withLockedValue { $0 = aliceID }
        let mallory = Participant(server: server, nick: "alice")
        try await mallory.waitUntilReady()

        let bob = Participant(server: server, nick: "bob", invite: secret)
        try await bob.waitUntilReady()
        let fake = try await bob.waitForMember("alice")
        #expect(fake.invited == false && fake.id != aliceID)
        #expect(await bob.client.members().map(\.id) == [fake.id])
        try await bob.client.say("only for the real alice")
        _ = try await bob.waitFor("not sent") { if case .notice(let text) = $0, text.contains("not sent") { true } else { nil } }

        // The control: without the secret, carol takes mallory for alice and sends to it.
        let carol = Participant(server: server, nick: "carol")
        try await carol.waitUntilReady()
        let fooled = try await carol.waitForMember("alice")
        #expect(fooled.id == fake.id && fooled.invited == nil)
        try await carol.client.say("hello alice")
        _ = try await mallory.waitForMessage("hello alice")
        #expect(!mallory.messages().contains { $0.text == "only for the real alice" })
        for participant in [alice, mallory, bob, carol] { await participant.stop() }
        await server.shutdown()
    }

    struct Failure: Error { let text: String; init(_ text: String) { self.text = text } }
}
