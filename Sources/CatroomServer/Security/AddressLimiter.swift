import NIOCore

/// Per-IP limits on concurrent connections, connection attempts and registrations
/// (SECURITY-CASES SR-02, AR-01). Loopback is not exempt, so tests exercise it.
struct AddressLimiter: Sendable {
    private struct Entry {
        var connections = 0
        var attempts: TokenBucket
        var registrations: TokenBucket
    }

    private let limits: ServerConfiguration.Limits
    private var entries: [String: Entry] = [:]

    init(limits: ServerConfiguration.Limits) { self.limits = limits }

    /// Admits a new connection from `address`, or returns the limit that refuses it.
    mutating func admit(_ address: String, now: NIODeadline = .now()) -> ServerMetrics.Limit? {
        var entry = entries[address] ?? newEntry(now: now)
        defer { entries[address] = entry }
        guard entry.connections < limits.connectionsPerAddress else { return .connectionsPerAddress }
        guard entry.attempts.take(now: now) else { return .connectionAttemptsPerMinute }
        entry.connections += 1
        return nil
    }

    mutating func release(_ address: String) {
        guard var entry = entries[address] else { return }
        entry.connections -= 1
        entries[address] = entry
        // Forget idle addresses so the table cannot grow without bound.
        if entry.connections <= 0, entries.count > 10_000 { entries[address] = nil }
    }

    mutating func allowRegistration(from address: String, now: NIODeadline = .now()) -> Bool {
        var entry = entries[address] ?? newEntry(now: now)
        defer { entries[address] = entry }
        return entry.registrations.take(now: now)
    }

    private func newEntry(now: NIODeadline) -> Entry {
        let perMinute = { (count: Int) in TokenBucket(rate: Double(count) / 60, burst: Double(count), now: now) }
        return Entry(attempts: perMinute(limits.connectionAttemptsPerMinute), registrations: perMinute(limits.registrationsPerMinute))
    }
}
