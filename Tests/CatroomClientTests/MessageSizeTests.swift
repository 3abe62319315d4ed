import CatroomClient
import CatroomServer
import CatroomTesting
import Testing

/// A message too big for the server's stanza cap is refused before it is sent, with
/// the limit; one just under it is delivered; the connection stays up either way.
@Suite struct MessageSizeTests {
    /// The limit in "message too long: N bytes, the limit is L".
    static func limit(of error: any Error) -> Int? {
        guard let match = "\(error)".firstMatch(of: /^message too long: (\d+) bytes, the limit is (\d+)$/) else { return nil }
        return Int(match.2)
    }

    @Test func refusesJustOverTheLimitAndDeliversJustUnder() async throws {
        let server = try await TestServer.start { $0.limits.maxStanzaBytes = 20_000; $0.limits.maxOccupants = 10 }
        let (alice, bob, carol) = try await Participant.trio(on: server)
        var refused: (any Error)?
        do { try await alice.client.say(String(repeating: "x", count: 20_000)) } catch { refused = error }
        let limit = try #require(refused.flatMap(Self.limit), "\(String(describing: refused))")
        // What two worst-case entries leave of 20 000 bytes, three quarters of it (base64).
        #expect((13_500..<15_000).contains(limit))

        let under = String(repeating: "é", count: limit / 2) + (limit % 2 == 0 ? "" : "x")
        #expect(under.utf8.count == limit)
        var overRefused = false
        do { try await alice.client.say(under + "x") } catch {
            overRefused = true
            #expect("\(error)" == "message too long: \(limit + 1) bytes, the limit is \(limit)")
        }
        #expect(overRefused)
        try await alice.client.say(under)
        _ = try await bob.waitForMessage(under)
        _ = try await carol.waitForMessage(under)

        // A private message has one recipient: its limit is higher, and holds as well.
        var privateRefusal: (any Error)?
        do { try await alice.client.whisper(String(repeating: "y", count: 20_000), to: "bob") } catch { privateRefusal = error }
        let privateLimit = try #require(privateRefusal.flatMap(Self.limit))
        #expect(privateLimit > limit)
        let whisper = String(repeating: "y", count: privateLimit)
        try await alice.client.whisper(whisper, to: "bob")
        _ = try await bob.waitForMessage(whisper)

        try await alice.client.say("still connected")
        _ = try await bob.waitForMessage("still connected")
        for participant in [alice, bob, carol] { await participant.stop() }
        await server.shutdown()
    }
}
