import CatroomClient
import CatroomTesting
import Testing

/// CR-0006 §5.11: the room topic, set by a member, passed to joiners in hellos.
@Suite struct TopicTests {
    func topic(_ participant: Participant, _ text: String) async throws -> TopicInfo {
        try await participant.waitFor("the topic \(text)") { if case .topic(let topic) = $0, topic.text == text { topic } else { nil } }
    }

    @Test func aTopicReachesMembersAndJoinersAndCanBeCleared() async throws {
        let server = try await TestServer.start()
        let (alice, bob) = (Participant(server: server, nick: "alice"), Participant(server: server, nick: "bob"))
        try await alice.waitUntilReady()
        try await bob.waitUntilReady()
        _ = try await alice.waitForMember("bob")
        #expect(await alice.client.perform(.topic(nil)) == .notice("no topic is set"))

        #expect(await alice.client.perform(.topic("release\non friday")) == .none)
        let own = try await topic(alice, "release on friday")
        #expect(own.setBy == "alice" && own.reportedBy == nil)
        let seen = try await topic(bob, "release on friday")
        #expect(seen.setBy == "alice" && seen.reportedBy == nil)
        #expect(await bob.client.perform(.topic(nil)) == .notice("topic: \u{2068}release on friday\u{2069} (set by alice)"))

        // carol learns it from the hellos of alice and bob: the same topic, as one of them reports it.
        let carol = Participant(server: server, nick: "carol")
        let reported = try await topic(carol, "release on friday")
        #expect(reported.setBy == "alice" && ["alice", "bob"].contains(reported.reportedBy ?? ""))

        #expect(await bob.client.perform(.topic("")) == .none)
        for participant in [alice, carol] {
            let cleared = try await topic(participant, "")
            #expect(cleared.setBy == "bob" && cleared.reportedBy == nil)
        }

        let long = String(repeating: "x", count: 257)
        #expect(await alice.client.perform(.topic(long)) == .error("a topic is at most 256 characters; this one has 257"))
        for participant in [alice, bob, carol] { await participant.stop() }
        await server.shutdown()
    }

    @Test func slashTopicParses() {
        #expect(Command.parse("/topic") == .topic(nil))
        #expect(Command.parse("/topic  new plans ") == .topic("new plans"))
        #expect(Command.parse("/topic -delete") == .topic(""))
    }
}
