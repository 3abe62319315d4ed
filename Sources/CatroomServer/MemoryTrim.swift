import Foundation
import Glibc
import NIOCore

/// Gives memory back to the system when the server is quiet after a flood.
///
/// glibc keeps what the server freed in its per-thread arenas: after a load run had
/// closed every connection, 2 to 6 MB was in use and RSS stayed at 175 MB
/// (docs/performance.md). `malloc_trim(0)` returns the free pages, in tens of
/// milliseconds on one event loop; so it runs only when RSS has grown by `growth`
/// since the last trim and the process used less than `quietCPU` in the last `interval`.
struct MemoryTrim {
    static let interval = TimeAmount.seconds(5)
    static let growth = 32 << 20
    static let quietCPU = Duration.milliseconds(250)

    /// RSS after the last trim, or the lowest seen since.
    private var floor = Int.max
    private var lastCPU: Duration?

    /// Called every `interval`; trims when it is worth it, and returns RSS before and
    /// after, and the time taken.
    mutating func check() -> (before: Int, after: Int, took: Duration)? {
        let cpu = Self.processCPUTime()
        defer { lastCPU = cpu }
        guard let rss = Self.residentBytes() else { return nil }
        floor = min(floor, rss)
        guard let lastCPU, cpu - lastCPU < Self.quietCPU, rss - floor >= Self.growth, let trim = Self.mallocTrim else {
            return nil
        }
        let took = ContinuousClock().measure { _ = trim(0) }
        floor = Self.residentBytes() ?? rss
        return (rss, floor, took)
    }

    private static func processCPUTime() -> Duration {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return .seconds(time.tv_sec) + .nanoseconds(time.tv_nsec)
    }

    /// The second field of /proc/self/statm, in bytes (proc(5)).
    static func residentBytes() -> Int? {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * sysconf(Int32(_SC_PAGESIZE))
    }

    /// glibc's `malloc_trim`, which the Glibc module does not export (malloc.h); nil elsewhere.
    private static let mallocTrim = dlsym(nil, "malloc_trim").map {
        unsafeBitCast($0, to: (@convention(c) (Int) -> Int32).self)
    }
}
