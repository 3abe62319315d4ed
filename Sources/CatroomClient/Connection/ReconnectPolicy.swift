/// When to try again after losing the server: exponential backoff with jitter.
///
/// The n-th attempt in a row waits `base · 2^(n−1)` seconds, capped at `cap`, of which a
/// random half is taken off ("equal jitter"), so clients that lost the same server do
/// not all come back in the same instant. After `maxAttempts` failed attempts in a row
/// the client gives up; reaching the room again starts the count afresh.
public struct ReconnectPolicy: Sendable, Equatable {
    /// Off: the first lost connection ends the run (`--no-reconnect`).
    public var enabled = true
    public var baseSeconds = 1.0
    public var capSeconds = 60.0
    /// 1 + 2 + 4 + … + 32 + 14 · 60 s: about a quarter of an hour of trying.
    public var maxAttempts = 20

    public init() {}

    /// The wait before attempt `attempt` (from 1), between half the nominal delay and all of it.
    public func delay(attempt: Int, using generator: inout some RandomNumberGenerator) -> Double {
        // 2^62 already exceeds any cap; the shift must not overflow.
        let nominal = min(capSeconds, baseSeconds * Double(1 << min(max(attempt - 1, 0), 62)))
        return nominal / 2 + Double.random(in: 0...1, using: &generator) * nominal / 2
    }
}
