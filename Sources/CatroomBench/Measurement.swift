import Foundation

/// Times single calls and summarises them: robust to a busy machine because it
/// reports the median of many individually timed calls.
struct Measurement: Sendable {
    /// Per-call durations in nanoseconds, sorted.
    let samples: [Double]

    var median: Double { percentile(0.5) }

    func percentile(_ p: Double) -> Double {
        samples[min(samples.count - 1, Int(Double(samples.count) * p))]
    }

    /// Runs `prepare` untimed and `body` timed, `count` times after `warmup` untimed rounds.
    static func run<State>(
        count: Int, warmup: Int = 20, prepare: () throws -> State, body: (inout State) throws -> Void
    ) rethrows -> Measurement {
        var samples: [Double] = []
        samples.reserveCapacity(count)
        for round in 0..<(warmup + count) {
            var state = try prepare()
            let start = DispatchTime.now().uptimeNanoseconds
            try body(&state)
            let end = DispatchTime.now().uptimeNanoseconds
            if round >= warmup { samples.append(Double(end - start)) }
        }
        return Measurement(samples: samples.sorted())
    }

    /// Times `body` alone, with nothing to prepare.
    static func run(count: Int, warmup: Int = 20, body: () throws -> Void) rethrows -> Measurement {
        try run(count: count, warmup: warmup, prepare: { () }, body: { _ in try body() })
    }
}
