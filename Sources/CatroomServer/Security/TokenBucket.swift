import NIOCore

/// A token bucket: `rate` tokens per second up to `burst`; one token per event.
struct TokenBucket: Sendable {
    let rate: Double
    let burst: Double
    private var tokens: Double
    private var updated: NIODeadline

    init(rate: Double, burst: Double, now: NIODeadline = .now()) {
        self.rate = rate
        self.burst = burst
        tokens = burst
        updated = now
    }

    /// Takes one token if there is one.
    mutating func take(now: NIODeadline = .now()) -> Bool {
        refill(now: now)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    /// How long until a token is available (zero if one is).
    mutating func wait(now: NIODeadline = .now()) -> TimeAmount {
        refill(now: now)
        guard tokens < 1 else { return .zero }
        return .nanoseconds(Int64((1 - tokens) / rate * 1e9) + 1)
    }

    private mutating func refill(now: NIODeadline) {
        let elapsed = Double((now - updated).nanoseconds) / 1e9
        if elapsed > 0 {
            tokens = min(burst, tokens + elapsed * rate)
            updated = now
        }
    }
}
