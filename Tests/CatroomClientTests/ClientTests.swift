import CatroomClient
import CatroomProtocol
import CatroomServer
import CatroomTesting
import Testing

/// The client engine end to end against a real server on loopback.
@Suite struct ClientTests {
    @Test func threeMembersTalkInTheRoomAndPrivately() async throws {
        let server = try await TestServer.start()
        let (alice, bob, carol) = try await Participant.trio(on: server)
        // Everyone has met everyone, by display name.
        for (participant, others) in [(alice, ["bob", "carol"]), (bob, ["alice", "carol"]), (carol, ["alice", "bob"])] {
            for other in others {
                try await participant.waitForMember(other)
            }
        }
        try await alice.client.say("hello from alice")
        for receiver in [bob, carol] {
            let message = try await receiver.waitForMessage("hello from alice")
            #expect(message.from.nick == "alice" && !message.isPrivate)
            #expect(message.missingRecipients.isEmpty && message.unknownRecipients.isEmpty)
        }
        try await carol.client.say("carol here")
        _ = try await alice.waitForMessage("carol here")
        _ = try await bob.waitForMessage("carol here")
        try await bob.client.whisper("just for alice", to: "alice")
        let whisper = try await alice.waitForMessage("just for alice")
        #expect(whisper.isPrivate && whisper.from.nick == "bob")
        try await Task.sleep(for: .milliseconds(200))
        #expect(!carol.messages().contains { $0.text == "just for alice" })
        for participant in [alice, bob, carol] { await participant.stop() }
        await server.shutdown()
    }

    /// A name shared with another member is shown with a fingerprint suffix (RM-05); every
    /// command finds a member the same way: by id, by the name as shown, or by a chosen
    /// name that only one member has.
    @Test func membersAreFoundByIdShownNameOrUniqueChosenName() async throws {
        let server = try await TestServer.start()
        let alice = Participant(server: server, nick: "alice")
        try await alice.waitUntilReady()
        let bob = Participant(server: server, nick: "bob")
        try await bob.waitUntilReady()
        let otherBob = Participant(server: server, nick: "bob")
        try await otherBob.waitUntilReady()
        let otherID = try #require(await otherBob.client.me()?.id)
        let joined = { (id: String) in { (event: ClientEvent) -> MemberInfo? in
            if case .memberJoined(let member) = event, member.id == id { member } else { nil }
        } }
        // To bob, the other bob shares its own name: shown with a suffix, yet "bob" still finds it.
        let shown = try await bob.waitFor("the other bob", joined(otherID))
        #expect(shown.nick == "bob#" + shown.shortFingerprint)
        for name in ["bob", shown.nick, otherID] {
            #expect(try await bob.client.member(named: name) == shown, "looking up \(name)")
        }
        await #expect(throws: (any Error).self) { try await bob.client.member(named: "carol") }
        #expect(await bob.client.perform(.fingerprint("bob")) == .fingerprint(nick: shown.nick, fingerprint: shown.fingerprint, verified: false))
        #expect(await bob.client.perform(.fingerprint("carol")) == .error("no member called carol"))
        // To alice, two members chose "bob": that name is ambiguous, the shown names are not.
        try await alice.waitFor("the other bob", joined(otherID))
        await #expect(throws: (any Error).self) { try await alice.client.member(named: "bob") }
        #expect(try await alice.client.member(named: "bob#" + shown.shortFingerprint)?.id == otherID)
        for participant in [alice, bob, otherBob] { await participant.stop() }
        await server.shutdown()
    }

    /// CR-0005 §3.1: a room name without a canonical form is reported before connecting, never a crash.
    @Test(arguments: ["my room", "", "a@b", "room/x", String(repeating: "r", count: 65)])
    func aRoomNameWithoutCanonicalFormIsReported(room: String) async throws {
        let server = try await TestServer.start()
        let participant = Participant(server: server, nick: "alice", room: room)
        let text = try await participant.waitFor("the error") { if case .error(let text) = $0 { text } else { nil } }
        #expect(text.hasPrefix("cannot join: ") && text.hasSuffix(RoomName.rule))
        #expect(!participant.events.contains { if case .connected = $0 { true } else { false } })
        await participant.stop()
        await server.shutdown()
    }
}
