import CoreMetrics
import Prometheus

/// What `/metrics` reports (docs/admin-guide.md, "Monitoring"), through swift-metrics into a
/// Prometheus registry of this server's own. Labels come from the two fixed sets below, so
/// no account id, room name or address ever becomes a label.
///
/// Counters move where things happen, one relaxed atomic add each (a fan-out adds its
/// copies at once); the gauges are read from the `Hub` when scraped, so they cost the
/// hot path nothing.
final class ServerMetrics: Sendable {
    /// Why the server refused or dropped something.
    enum Refusal: String, CaseIterable, Sendable {
        /// A connection refused past a connection limit, before any XML.
        case connectionLimit = "connection_limit"
        /// A stream the server ended with a stream error (RFC 6120 §4.9), shutdown aside.
        case streamError = "stream_error"
        /// A connection dropped because its unsent bytes passed `max_outbound_bytes`.
        case slowReader = "slow_reader"
        /// A plaintext message refused by the encrypted-only rule (CR-0005 §5.4).
        case unencrypted
    }

    /// A limit that was reached, named as its configuration key.
    enum Limit: String, CaseIterable, Sendable {
        case maxConnections = "max_connections"
        case connectionsPerAddress = "connections_per_address"
        case connectionAttemptsPerMinute = "connection_attempts_per_minute"
        case preAuthenticationSeconds = "pre_authentication_seconds"
        case maxStanzaBytes = "max_stanza_bytes"
        case stanzasPerSecond = "stanzas_per_second"
        case maxOutboundBytes = "max_outbound_bytes"
        case maxFailedAttempts = "max_failed_attempts"
        case registrationsPerMinute = "registrations_per_minute"
        case totalRegistrationsPerMinute = "total_registrations_per_minute"
        case maxAccounts = "max_accounts"
        case maxStreamsPerAccount = "max_streams_per_account"
        case maxOccupants = "max_occupants"
        case maxRoomsPerAccount = "max_rooms_per_account"
        case bundlePublications = "bundle_publications_per_ten_minutes"
        case bundleFetches = "bundle_fetches_per_minute"
    }

    private let registry = PrometheusCollectorRegistry()
    /// Top-level elements read from clients, negotiation included.
    let stanzasIn: CoreMetrics.Counter
    /// Elements written to clients: `deliveries` and the server's own answers.
    let stanzasOut: CoreMetrics.Counter
    /// Stanzas routed to a session: each copy of a fan-out, presence, replies.
    let deliveries: CoreMetrics.Counter
    /// Accounts created, ephemeral (CR-0003) and plain.
    let registrations: CoreMetrics.Counter
    private let refusals: [Refusal: CoreMetrics.Counter]
    private let limitHits: [Limit: CoreMetrics.Counter]
    private let connections, accounts, rooms, occupants, residentBytes: CoreMetrics.Gauge

    init() {
        let factory = PrometheusMetricsFactory(registry: registry)
        func counter(_ name: String, _ label: (String, String)? = nil) -> CoreMetrics.Counter {
            CoreMetrics.Counter(label: "catroom_\(name)_total", dimensions: label.map { [$0] } ?? [], factory: factory)
        }
        func gauge(_ name: String) -> CoreMetrics.Gauge { CoreMetrics.Gauge(label: "catroom_\(name)", factory: factory) }
        stanzasIn = counter("stanzas_in")
        stanzasOut = counter("stanzas_out")
        deliveries = counter("deliveries")
        registrations = counter("registrations")
        refusals = Dictionary(uniqueKeysWithValues: Refusal.allCases.map { ($0, counter("refusals", ("reason", $0.rawValue))) })
        limitHits = Dictionary(uniqueKeysWithValues: Limit.allCases.map { ($0, counter("limit_hits", ("limit", $0.rawValue))) })
        connections = gauge("connections")
        accounts = gauge("accounts")
        rooms = gauge("rooms")
        occupants = gauge("occupants")
        residentBytes = gauge("resident_memory_bytes")
    }

    func refused(_ reason: Refusal) { refusals[reason]?.increment() }

    func hit(_ limit: Limit) { limitHits[limit]?.increment() }

    /// The Prometheus text exposition, with the gauges read now.
    func exposition(_ hub: Hub) -> [UInt8] {
        let counts = hub.counts
        connections.record(counts.connections)
        accounts.record(counts.accounts)
        rooms.record(counts.rooms)
        occupants.record(counts.occupants)
        if let rss = MemoryTrim.residentBytes() { residentBytes.record(rss) }
        return registry.emitToBuffer()
    }
}
