import NIOCore
import Synchronization

/// What every connection of a scenario reports as it goes: how many have finished
/// their part, and the errors seen, by kind. Shared by all event loops.
final class RunProgress: Sendable {
    private let finished = Atomic<Int>(0)
    private let failed = Atomic<Int>(0)
    private let errorCounts = Mutex<[String: Int]>([:])

    /// A connection has received everything it expected.
    func connectionFinished() {
        finished.add(1, ordering: .relaxed)
    }

    var finishedConnections: Int { finished.load(ordering: .relaxed) }

    /// A connection failed: it will finish nothing.
    func connectionFailed() {
        failed.add(1, ordering: .relaxed)
    }

    var failedConnections: Int { failed.load(ordering: .relaxed) }

    /// Connections that finished or failed since `reset()`.
    var settledConnections: Int { finishedConnections + failedConnections }

    func reset() {
        finished.store(0, ordering: .relaxed)
        failed.store(0, ordering: .relaxed)
    }

    func record(_ error: String) {
        errorCounts.withLock { $0[error, default: 0] += 1 }
    }

    /// The errors so far, emptying the record for the next scenario.
    func takeErrors() -> [String: Int] {
        errorCounts.withLock { counts in
            defer { counts = [:] }
            return counts
        }
    }
}

/// The monotonic clock every connection stamps with (CLOCK_MONOTONIC through NIO), in nanoseconds.
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    NIODeadline.now().uptimeNanoseconds
}
