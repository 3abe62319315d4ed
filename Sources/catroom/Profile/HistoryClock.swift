import Foundation

/// The clock history is stamped and kept by: the system's, shifted by the seconds in
/// `CATROOM_TEST_CLOCK_SHIFT` (hidden, for the retention tests: it only moves times,
/// by at most ten years either way).
enum HistoryClock {
    static func now() -> Date {
        let shift = ProcessInfo.processInfo.environment["CATROOM_TEST_CLOCK_SHIFT"].flatMap(Double.init) ?? 0
        return Date().addingTimeInterval(abs(shift) <= 315_360_000 ? shift : 0)
    }
}
