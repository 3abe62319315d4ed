import Foundation

/// Times single calls and summarises them: robust to a busy machine because it
/// reports the median of many individually timed calls.
struct Measurement: Sendable {
    /// Per-call durations in nanoseconds, sorted.
    let samples: [Double]

    var median: Double { percentile(0.5, ofSorted: samples) ?? 0 }

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

    /// Runs two measurements in alternating chunks of `chunk` calls until each has
    /// `count` samples, so that both see the same load on a shared machine.
    static func alternating(
        count: Int, chunk: Int = 10, _ first: (_ calls: Int) throws -> Measurement, _ second: (_ calls: Int) throws -> Measurement
    ) rethrows -> (Measurement, Measurement) {
        var a: [Double] = [], b: [Double] = []
        while a.count < count {
            let calls = min(chunk, count - a.count)
            a += try first(calls).samples
            b += try second(calls).samples
        }
        return (Measurement(samples: a.sorted()), Measurement(samples: b.sorted()))
    }

    /// Times `body` alone, with nothing to prepare.
    static func run(count: Int, warmup: Int = 20, body: () throws -> Void) rethrows -> Measurement {
        try run(count: count, warmup: warmup, prepare: { () }, body: { _ in try body() })
    }
}

/// The sample at fraction `p` (0...1) of an ascending array, taken at index ⌊count × p⌋ and
/// clamped to the last; nil for an empty array. Every report's percentiles come from here.
func percentile<T>(_ p: Double, ofSorted sorted: [T]) -> T? {
    guard !sorted.isEmpty else { return nil }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}
