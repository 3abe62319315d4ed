@_spi(Testing) import CatroomClient
import CatroomServer
import CatroomTesting
import Testing

/// Several rooms in one client: one connection, and one pairwise session per member
/// pair across the rooms they share (CR-0006 §5.1, §5.9).
@Suite struct MultiRoomTests {
    static let lobby = "lobby@rooms.localhost"
    static let second = "second@rooms.localhost"

    /// alice and bob in lobby, then both in second too.
    static func pairInTwoRooms(on server: Server) async throws -> (alice: Participant, bob: Participant) {
        let alice = Participant(server: server, nick: "alice")
        try await alice.waitUntilReady()
        let bob = Participant(server: server, nick: "bob")
        try await bob.waitUntilReady()
        try await alice.waitForMember("bob")
        try await alice.client.join("second")
        try await alice.waitFor("second joined", in: second) { if case .ready = $0 { true } else { nil } }
        try await bob.client.join("Second")
        try await bob.waitFor("second ready", in: second) { if case .ready = $0 { true } else { nil } }
        try await alice.waitFor("bob in second", in: second) { if case .memberJoined(let m) = $0, m.nick == "bob" { true } else { nil } }
        return (alice, bob)
    }

    @Test func twoRoomsShareOneConnectionAndOneSession() async throws {
        let server = try await TestServer.start()
        let (alice, bob) = try await Self.pairInTwoRooms(on: server)
        let aliceID = try #require(await alice.client.me()?.id)
        #expect(bob.client.rooms == [Self.lobby, Self.second])
        // The second room's hello went through the session the first room made.
        #expect(bob.client.sessionPeers() == [aliceID])

        try await alice.client.say("in second", in: "second")
        try await alice.client.say("in lobby")
        let inSecond = try await bob.waitFor("second's message", in: Self.second) { event -> ChatMessage? in
            if case .message(let message) = event, !message.isOwn { message } else { nil }
        }
        #expect(inSecond.text == "in second")
        let inLobby = try await bob.waitFor("lobby's message", in: Self.lobby) { event -> ChatMessage? in
            if case .message(let message) = event, !message.isOwn { message } else { nil }
        }
        #expect(inLobby.text == "in lobby")
        // Each room's view and safety code cover its own members only.
        #expect(await bob.client.members(in: "second").map(\.nick) == ["alice"])
        #expect(await bob.client.safetyCode(in: "second")?.members == 2)
        for participant in [alice, bob] { await participant.stop() }
        await server.shutdown()
    }

    @Test func aSessionLastsAsLongAsOneSharedRoom() async throws {
        let server = try await TestServer.start()
        let (alice, bob) = try await Self.pairInTwoRooms(on: server)
        let aliceID = try #require(await alice.client.me()?.id)
        let bobInfo = try #require(await alice.client.member(named: "bob", in: "second"))

        try await bob.client.part("lobby")
        try await alice.waitFor("bob left lobby", in: Self.lobby) { if case .memberLeft(let m) = $0, m.nick == "bob" { true } else { nil } }
        #expect(bob.client.rooms == [Self.second])
        #expect(bob.client.sessionPeers() == [aliceID])
        // A side chat started in lobby goes on through second, the room they still share.
        try await alice.client.whisper("still here", to: bobInfo, in: "lobby")
        let whispered = try await bob.waitForMessage("still here")
        #expect(whispered.isPrivate)
        try await alice.client.say("second still works", in: "second")
        _ = try await bob.waitForMessage("second still works")

        // Leaving the last shared room ends the session (CR-0006 §5.9).
        try await alice.client.part("second")
        try await bob.waitFor("alice left second", in: Self.second) { if case .memberLeft(let m) = $0, m.nick == "alice" { true } else { nil } }
        #expect(bob.client.sessionPeers().isEmpty)
        for participant in [alice, bob] { await participant.stop() }
        await server.shutdown()
    }

    @Test func aRoomThatRefusesLeavesTheOthersJoined() async throws {
        let server = try await TestServer.start()
        let carol = Participant(server: server, nick: "carol", room: "vault", password: "hunter2")
        try await carol.waitUntilReady()
        let alice = Participant(server: server, nick: "alice")
        try await alice.waitUntilReady()
        let bob = Participant(server: server, nick: "bob")
        try await bob.waitUntilReady()

        try await alice.client.join("vault")
        let failure = try await alice.waitFor("vault refused", in: "vault@rooms.localhost") { event -> ConnectFailure? in
            if case .failed(let failure) = event { failure } else { nil }
        }
        #expect(failure.description.contains("vault"))
        #expect(alice.client.rooms == [Self.lobby])
        try await alice.client.say("still in lobby")
        _ = try await bob.waitForMessage("still in lobby")
        for participant in [alice, bob, carol] { await participant.stop() }
        await server.shutdown()
    }

    @Test func commandsNameTheirRoom() async throws {
        let server = try await TestServer.start()
        let alice = Participant(server: server, nick: "alice")
        try await alice.waitUntilReady()
        await #expect(throws: (any Error).self) { try await alice.client.say("nowhere", in: "elsewhere") }
        await #expect(throws: (any Error).self) { try await alice.client.join("lobby") }
        await #expect(throws: (any Error).self) { try await alice.client.join("no room") }
        let reply = await alice.client.perform(.who, in: "elsewhere")
        #expect(reply == .error("not in elsewhere"))
        await alice.stop()
        await server.shutdown()
    }
}
