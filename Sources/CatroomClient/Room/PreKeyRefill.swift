import CatroomProtocol

/// When to publish one-time prekeys (CR-0006 §4.1): at most one publication in
/// flight, at most one starting per cool-down, and low-stock notices that arrive in
/// between wait for the next allowed moment, the latest replacing earlier ones.
///
/// A value that returns what to do; the caller publishes, and supplies the time.
struct PreKeyRefill {
    typealias Instant = ContinuousClock.Instant

    enum Action: Equatable {
        case nothing
        /// Publish this many new one-time prekeys, then call `finished`.
        case publish(count: Int)
        /// Call `woke` at this instant.
        case wake(at: Instant)
    }

    let coolDown: Duration
    private var publishing = false
    private var lastStart: Instant?
    /// One-time prekeys the latest notice not yet acted on asks for.
    private var wanted: Int?
    private var wakeScheduled = false

    init(coolDown: Duration) {
        self.coolDown = coolDown
    }

    /// The first publication begins; it counts towards the cool-down like a refill.
    mutating func started(at now: Instant) {
        publishing = true
        lastStart = now
    }

    /// A valid notice arrived (`LowStockNotice` has checked it).
    mutating func noticed(_ notice: LowStockNotice, at now: Instant) -> Action {
        wanted = notice.refill
        return next(at: now)
    }

    /// A publication ended, accepted or not.
    mutating func finished(at now: Instant) -> Action {
        publishing = false
        return next(at: now)
    }

    mutating func woke(at now: Instant) -> Action {
        wakeScheduled = false
        return next(at: now)
    }

    private mutating func next(at now: Instant) -> Action {
        guard let count = wanted, !publishing else { return .nothing }
        if let lastStart, now < lastStart + coolDown {
            guard !wakeScheduled else { return .nothing }
            wakeScheduled = true
            return .wake(at: lastStart + coolDown)
        }
        wanted = nil
        started(at: now)
        return .publish(count: count)
    }
}
