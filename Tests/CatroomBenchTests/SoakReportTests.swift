@testable import CatroomBench
import Testing

/// The soak's verdicts: RSS growth after warm-up and delivery, without running a soak.
@Suite struct SoakReportTests {
    @Test func flatMemoryPassesAndSteadyGrowthFails() {
        let flat = SoakReport.growth([90_000, 50_000, 50_100, 49_900, 50_200, 50_000, 50_100, 49_950, 50_050], boundKiB: 16 * 1024)
        #expect(flat.judged && flat.passed && flat.warmUpSamples == 1)
        // 4 MiB more every sample: 20 samples, the first four warm-up.
        let leaking = SoakReport.growth((0..<20).map { 50_000 + $0 * 4096 }, boundKiB: 16 * 1024)
        #expect(leaking.judged && !leaking.passed)
        #expect(leaking.growthKiB == (18 - 6) * 4096)
    }

    @Test func tooFewSamplesAreNotJudged() {
        let short = SoakReport.growth([50_000, 90_000, 190_000], boundKiB: 1024)
        #expect(!short.judged && short.passed)
    }

    @Test func aMemberThatStayedAndNeverReadIsALoss() {
        let ledger = DeliveryLedger()
        let start = ContinuousClock.now
        for (account, member) in [("a", 0), ("b", 1), ("c", 2)] { ledger.register(account: account, member: member, at: start - .seconds(5)) }
        ledger.sent("m1", by: 0, to: ["b", "c"], at: start)
        ledger.delivered("m1", to: 1)
        let lost = SoakReport.Loss(message: "m1", member: 2)
        #expect(ledger.tally(window: .seconds(30)) == .init(messages: 1, expected: 2, delivered: 1, lost: [lost]))
        // Had c dropped soon after the send, it would be excused; reading it counts anyway.
        ledger.disrupted(2, at: start + .seconds(1))
        #expect(ledger.tally(window: .seconds(30)) == .init(messages: 1, expected: 1, delivered: 1))
        ledger.delivered("m1", to: 2)
        #expect(ledger.tally(window: .seconds(30)) == .init(messages: 1, expected: 2, delivered: 2))
    }

    /// The hour-long soak's one loss: the recipient had begun leaving 4 ms before the send,
    /// which the sender had not heard yet.
    @Test func aMemberGoneBeforeTheSendIsNotExpectedAndOneBackIs() {
        let ledger = DeliveryLedger()
        let start = ContinuousClock.now
        for (account, member) in [("a", 0), ("b", 1)] { ledger.register(account: account, member: member, at: start - .seconds(5)) }
        ledger.disrupted(1, at: start - .milliseconds(4))
        ledger.note(1, "leaving", at: start - .milliseconds(4))
        ledger.sent("m1", by: 0, to: ["b"], at: start)
        #expect(ledger.tally(window: .seconds(30)) == .init(messages: 1, expected: 0, delivered: 0))
        // Connected again (a reconnection keeps its member number) before the next send.
        ledger.register(account: "b", member: 1, at: start + .seconds(1))
        ledger.sent("m2", by: 0, to: ["b"], at: start + .seconds(2))
        let lost = SoakReport.Loss(message: "m2", member: 1, timeline: ["member 1: -2.004 leaving"])
        #expect(ledger.tally(window: .seconds(30)) == .init(messages: 2, expected: 1, delivered: 0, lost: [lost]))
    }

    @Test func failsOnLossGrowthAHostileConnectionLetInOrADeadServer() {
        let delivery = SoakReport.Delivery(messages: 1, expected: 2, delivered: 2, lost: [])
        let growth = SoakReport.growth([1, 1, 1, 1, 1], boundKiB: 1024)
        #expect(SoakReport.failures(delivery: delivery, growth: growth, hostile: [], serverAlive: true).isEmpty)
        let lossy = SoakReport.Delivery(messages: 1, expected: 2, delivered: 1, lost: [.init(message: "m1", member: 2)])
        #expect(SoakReport.failures(delivery: lossy, growth: growth, hostile: [], serverAlive: true) == ["delivery 50.000% (1 of 2)"])
        let letIn = [SoakReport.Hostile(shape: "doctype", tried: 3, refused: 2)]
        #expect(SoakReport.failures(delivery: delivery, growth: growth, hostile: letIn, serverAlive: false)
            == ["the server exited during the soak", "hostile doctype: 1 of 3 not refused"])
    }
}
