import CatroomClient
import CatroomTesting
import Testing

/// `/ignore` follows a member's key: its messages are hidden whatever name it takes,
/// and still acknowledged (CR-0006 §5.8), so its sender sees them delivered.
@Suite struct IgnoreTests {
    func delivered(_ participant: Participant, count: Int) async throws {
        try await participant.waitFor("\(count) complete deliveries") { _ in
            let complete = participant.events.filter { if case .delivery(_, _, let pending) = $0, pending.isEmpty { true } else { false } }
            return complete.count >= count ? true : nil
        }
    }

    @Test func anIgnoredKeyIsHiddenUnderAnyNameUntilUnignored() async throws {
        let server = try await TestServer.start()
        let (alice, bob) = (Participant(server: server, nick: "alice"), Participant(server: server, nick: "bob"))
        try await alice.waitUntilReady()
        try await bob.waitUntilReady()
        _ = try await alice.waitForMember("bob")
        guard case .notice(let notice) = await alice.client.perform(.ignore("bob")) else { Issue.record("no notice"); return }
        #expect(notice.hasPrefix("bob's messages are hidden now"))
        #expect(await alice.client.perform(.ignore(nil)) == .notice("you ignore: bob (\(try await alice.waitForMember("bob").shortFingerprint))"))

        try await bob.client.say("hidden")
        try await delivered(bob, count: 1)
        #expect(await bob.client.perform(.nick("robert")) == .none)
        try await bob.client.say("hidden under another name")
        try await delivered(bob, count: 3)  // the rename is a room message too
        #expect(alice.messages().isEmpty)

        #expect(await alice.client.perform(.unignore("robert")) == .notice("robert's messages are shown again"))
        try await bob.client.say("shown")
        _ = try await alice.waitForMessage("shown")
        #expect(alice.messages().map(\.text) == ["shown"])
        for participant in [alice, bob] { await participant.stop() }
        await server.shutdown()
    }

    @Test func helpNamesOneCommandAndClearParses() {
        #expect(Command.parse("/help /topic") == .help("topic"))
        #expect(Command.parse("/help") == .help(nil))
        #expect(Command.help(for: "ignore") == "/ignore [nick]: hide a member's messages, by its key, whatever name it takes; alone, list whom you ignore")
        #expect(Command.help(for: "nothing") == nil)
        #expect(Command.parse("/clear") == .clear)
        #expect(Command.parse("/ignore") == .ignore(nil))
        #expect(Command.parse("/unignore") == .usage("/unignore <nick>"))
    }
}
