@testable import CatroomClient
import CatroomServer
import CatroomTesting
import Testing

/// Message text arrives as written: joiners, selectors, combining marks and
/// right-to-left scripts kept; what could drive the terminal or reorder it replaced.
@Suite struct MessageTextTests {
    static let intact = [
        "👩‍💻", "👨‍👩‍👧", "می‌خواهم", "क्‍ष", "e\u{301}", "مرحبا بالعالم", "שלום עולם", "❤️ ☺︎", "日本語", "a\u{200F}b\nsecond\tline",
    ]

    @Test(arguments: intact) func keepsWhatWritersNeed(text: String) {
        #expect(MessageText.sanitize(text) == text)
    }

    @Test func neutralisesControlsAndBidiEmbeddingsOverridesAndIsolates() {
        let hostile = "a\u{1B}]2;owned\u{07}b\u{9B}31mc\u{7F}\r\u{202E}evil\u{202C}\u{2067}x\u{2069}\u{202A}"
        #expect(MessageText.sanitize(hostile)
            == "a\u{FFFD}]2;owned\u{FFFD}b\u{FFFD}31mc\u{FFFD}\u{FFFD}\u{FFFD}evil\u{FFFD}\u{FFFD}x\u{FFFD}\u{FFFD}")
    }

    @Test func textReachesTheOtherMemberIntact() async throws {
        let server = try await TestServer.start()
        let alice = Participant(server: server, nick: "alice")
        try await alice.waitUntilReady()
        let bob = Participant(server: server, nick: "bob")
        try await bob.waitForMember("alice")
        try await alice.waitForMember("bob")
        let text = Self.intact.joined(separator: " ")
        try await alice.client.say(text)
        _ = try await bob.waitForMessage(text)
        for participant in [alice, bob] { await participant.stop() }
        await server.shutdown()
    }
}
