@testable import CatroomClient
import CatroomProtocol
import Testing

/// When the client publishes one-time prekeys (CR-0006 §4.1), without sockets or sleeping.
@Suite struct PreKeyRefillScheduleTests {
    let start = ContinuousClock.now
    func at(_ seconds: Double) -> ContinuousClock.Instant { start + .seconds(seconds) }

    /// A schedule whose first publication began at 0 and ended at 1.
    func published() -> PreKeyRefill {
        var refill = PreKeyRefill(coolDown: .seconds(100))
        refill.started(at: at(0))
        #expect(refill.finished(at: at(1)) == .nothing)
        return refill
    }

    @Test func refillPublishesWhatFits() {
        var refill = published()
        #expect(refill.noticed(LowStockNotice(remaining: 9), at: at(100)) == .publish(count: 91))
        #expect(refill.finished(at: at(101)) == .nothing)
        #expect(refill.noticed(LowStockNotice(remaining: 0), at: at(200)) == .publish(count: 100))
    }

    @Test func noticesDuringTheCoolDownWaitForItsEndAndOnlyTheLatestCounts() {
        var refill = published()
        #expect(refill.noticed(LowStockNotice(remaining: 9), at: at(10)) == .wake(at: at(100)))
        for second in 11..<60 {
            #expect(refill.noticed(LowStockNotice(remaining: 5), at: at(Double(second))) == .nothing)
        }
        #expect(refill.noticed(LowStockNotice(remaining: 3), at: at(60)) == .nothing)
        #expect(refill.woke(at: at(100)) == .publish(count: 97))
        #expect(refill.woke(at: at(100)) == .nothing)
    }

    @Test func noticesDuringAPublicationWaitForItAndTheCoolDown() {
        var refill = published()
        #expect(refill.noticed(LowStockNotice(remaining: 9), at: at(100)) == .publish(count: 91))
        #expect(refill.noticed(LowStockNotice(remaining: 8), at: at(101)) == .nothing)
        #expect(refill.finished(at: at(102)) == .wake(at: at(200)))
        #expect(refill.woke(at: at(200)) == .publish(count: 92))
    }

    @Test func aPublicationThatOutlastsTheCoolDownIsFollowedAtOnce() {
        var refill = published()
        #expect(refill.noticed(LowStockNotice(remaining: 9), at: at(100)) == .publish(count: 91))
        #expect(refill.noticed(LowStockNotice(remaining: 9), at: at(150)) == .nothing)
        #expect(refill.finished(at: at(250)) == .publish(count: 91))
    }

    @Test func nothingHappensWithoutANotice() {
        var refill = published()
        #expect(refill.woke(at: at(500)) == .nothing)
        #expect(refill.finished(at: at(500)) == .nothing)
    }
}
