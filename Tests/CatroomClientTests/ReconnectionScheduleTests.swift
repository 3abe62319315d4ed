@testable import CatroomClient
import CatroomProtocol
import Testing

/// The reconnection backoff and the queue of messages typed while disconnected, without sockets or sleeping.
@Suite struct ReconnectionScheduleTests {
    /// SplitMix64: a seeded generator, so the jitter is the same on every run.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func delaysDoubleFromTheBaseUpToTheCapEachWithinItsJitterBand() {
        var generator = SeededGenerator(state: 7)
        let policy = ReconnectPolicy()
        let nominal: [Double] = [1, 2, 4, 8, 16, 32, 60, 60, 60]
        for (index, expected) in nominal.enumerated() {
            let delay = policy.delay(attempt: index + 1, using: &generator)
            #expect(delay >= expected / 2 && delay <= expected, "attempt \(index + 1): \(delay)")
        }
    }

    @Test func theSameSeedGivesTheSameScheduleAndAnotherSeedAnother() {
        let policy = ReconnectPolicy()
        func schedule(seed: UInt64) -> [Double] {
            var generator = SeededGenerator(state: seed)
            return (1...8).map { policy.delay(attempt: $0, using: &generator) }
        }
        #expect(schedule(seed: 1) == schedule(seed: 1))
        #expect(schedule(seed: 1) != schedule(seed: 2))
    }

    @Test func hugeAttemptNumbersStayAtTheCap() {
        var generator = SeededGenerator(state: 3)
        var policy = ReconnectPolicy()
        policy.baseSeconds = 0.1
        policy.capSeconds = 0.5
        for attempt in [10, 63, 64, 1000, Int.max] {
            let delay = policy.delay(attempt: attempt, using: &generator)
            #expect(delay >= 0.25 && delay <= 0.5)
        }
    }

    @Test func theQueueKeepsOrderAndRefusesPastItsLimit() throws {
        let lobby = try JID("lobby@rooms.localhost")
        var queue = OutgoingQueue(limit: 3)
        let accepted = ["one", "two", "three", "four"].map { queue.append(.init(room: lobby, text: $0)) }
        #expect(accepted == [true, true, true, false])
        let taken = queue.removeAll()
        #expect(taken.map(\.text) == ["one", "two", "three"])
        #expect(queue.messages.isEmpty)
        let again = queue.append(.init(room: lobby, text: "again", to: .named("bob")))
        #expect(again)
    }

    @Test func messagesPutBackGoFirstEvenPastTheLimit() throws {
        let lobby = try JID("lobby@rooms.localhost")
        var queue = OutgoingQueue(limit: 2)
        _ = queue.append(.init(room: lobby, text: "a"))
        _ = queue.append(.init(room: lobby, text: "b"))
        let taken = queue.removeAll()
        _ = queue.append(.init(room: lobby, text: "c"))
        queue.prepend(taken)
        #expect(queue.messages.map(\.text) == ["a", "b", "c"])
        let overLimit = queue.append(.init(room: lobby, text: "d"))
        #expect(!overLimit)
    }
}
