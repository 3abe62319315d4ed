import Foundation

/// What `catroom bench soak` found: the server's RSS every sample, delivery, the hostile
/// loop's refusals, and the verdict.
public struct SoakReport: Codable, Sendable {
    public struct Sample: Codable, Sendable, Equatable {
        /// Since the load started.
        public var seconds: Double
        public var rssKiB: Int
        /// Deliveries (message × member) so far.
        public var deliveries: Int
    }

    public struct Delivery: Codable, Sendable, Equatable {
        public var messages: Int
        public var expected: Int
        public var delivered: Int
        public var percent: Double
        /// A few of the expected deliveries that never happened.
        public var lost: [Loss]

        init(messages: Int, expected: Int, delivered: Int, lost: [Loss]) {
            self.messages = messages
            self.expected = expected
            self.delivered = delivered
            percent = expected == 0 ? 100 : Double(delivered) * 100 / Double(expected)
            self.lost = lost
        }
    }

    /// An expected delivery that never happened, with what both members saw around it.
    public struct Loss: Codable, Sendable, Equatable {
        public var message: String
        public var member: Int
        /// The recipient's and then the sender's notes, in seconds from the send.
        public var timeline: [String] = []
    }

    /// The RSS growth check: the median of the last quarter of the samples after warm-up
    /// against the median of the first quarter.
    public struct Growth: Codable, Sendable, Equatable {
        public var warmUpSamples: Int
        public var firstQuarterMedianKiB: Int
        public var lastQuarterMedianKiB: Int
        public var boundKiB: Int
        public var growthKiB: Int
        /// Too few samples after warm-up (fewer than 4) to judge: not a failure.
        public var judged: Bool
        public var passed: Bool
    }

    public struct Hostile: Codable, Sendable, Equatable {
        public var shape: String
        public var tried: Int
        public var refused: Int
    }

    public struct Churn: Codable, Sendable, Equatable {
        public var joins = 0
        public var leaves = 0
        /// Connections cut under a client, which its reconnection brought back.
        public var reconnects = 0
        /// Joins with a key that was in the room before (a returning member).
        public var returns = 0
    }

    public var seconds: Double
    public var sampleSeconds: Double
    public var rooms: Int
    public var chattersPerRoom: Int
    public var samples: [Sample]
    public var delivery: Delivery
    public var growth: Growth
    public var churn: Churn
    public var hostile: [Hostile]
    /// What the clients reported besides messages, by kind, for a reader to judge: some are
    /// expected under churn (a newcomer cannot read what was sent before its key exchange).
    public var clientReports: [String: Int]
    public var failures: [String]
    public var passed: Bool { failures.isEmpty }

    /// The growth check over `rss` (KiB, in order): the first fifth (at least one sample) is warm-up.
    public static func growth(_ rss: [Int], boundKiB: Int) -> Growth {
        let warmUp = max(1, rss.count / 5)
        let measured = Array(rss.dropFirst(warmUp))
        let quarter = max(1, measured.count / 4)
        func median(_ values: ArraySlice<Int>) -> Int { percentile(0.5, ofSorted: values.sorted()) ?? 0 }
        let (first, last) = (median(measured.prefix(quarter)), median(measured.suffix(quarter)))
        let judged = measured.count >= 4
        return Growth(
            warmUpSamples: warmUp, firstQuarterMedianKiB: first, lastQuarterMedianKiB: last, boundKiB: boundKiB,
            growthKiB: last - first, judged: judged, passed: !judged || last - first <= boundKiB)
    }

    /// Why the run fails, if it does.
    static func failures(delivery: Delivery, growth: Growth, hostile: [Hostile], serverAlive: Bool) -> [String] {
        var failures: [String] = []
        if !serverAlive { failures.append("the server exited during the soak") }
        if delivery.expected == 0 { failures.append("no message was expected anywhere: nothing was measured") }
        if delivery.delivered < delivery.expected {
            failures.append(String(format: "delivery %.3f%% (%d of %d)", delivery.percent, delivery.delivered, delivery.expected))
        }
        if !growth.passed {
            failures.append("RSS grew \(growth.growthKiB / 1024) MiB after warm-up, over the bound of \(growth.boundKiB / 1024) MiB")
        }
        for shape in hostile where shape.refused < shape.tried {
            failures.append("hostile \(shape.shape): \(shape.tried - shape.refused) of \(shape.tried) not refused")
        }
        return failures
    }

    public func json() throws -> String { try prettyJSON(self) }

    /// The RSS table and the verdict, for people.
    public func text() -> String {
        var lines = ["  time    RSS MiB   delivered/s", String(repeating: "-", count: 32)]
        var previous: Sample?
        for sample in samples {
            let interval = sample.seconds - (previous?.seconds ?? 0)
            let rate = interval > 0 ? Double(sample.deliveries - (previous?.deliveries ?? 0)) / interval : 0
            lines.append(String(format: "%6.0f s %10.1f %13.1f", sample.seconds, Double(sample.rssKiB) / 1024, rate))
            previous = sample
        }
        lines.append("")
        lines.append(String(format: "delivery: %d of %d expected (%.3f%%) over %d messages", delivery.delivered, delivery.expected, delivery.percent, delivery.messages))
        for loss in delivery.lost {
            lines.append("  lost: \(loss.message) → member \(loss.member)")
            lines += loss.timeline.map { "    \($0)" }
        }
        lines.append(
            growth.judged
                ? String(format: "RSS after warm-up: %.1f → %.1f MiB (median of first and last quarter), bound +%d MiB",
                         Double(growth.firstQuarterMedianKiB) / 1024, Double(growth.lastQuarterMedianKiB) / 1024, growth.boundKiB / 1024)
                : "RSS growth not judged: fewer than 4 samples after warm-up")
        lines.append("churn: \(churn.joins) joins, \(churn.leaves) leaves, \(churn.reconnects) reconnects, \(churn.returns) returning keys")
        lines.append("hostile: " + hostile.map { "\($0.shape) \($0.refused)/\($0.tried)" }.joined(separator: ", "))
        for (report, count) in clientReports.sorted(by: { $0.key < $1.key }) { lines.append("reported by clients: \(report) ×\(count)") }
        lines.append(passed ? "PASSED" : "FAILED: " + failures.joined(separator: "; "))
        return lines.joined(separator: "\n")
    }
}
