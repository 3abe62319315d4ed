import CatroomClient
import CatroomCrypto
import CatroomProfile
import Foundation

/// `catroom bench profile`: what a profile costs (docs/profile-format.md): opening it,
/// which is mostly Argon2id at the default limits (beside the minimum, which shows what
/// is not the hash), writing one contact update and one history entry, synced
/// (`synchronous=FULL`), and delivery latency with history on and off, side by side.
public struct ProfileBenchmark {
    public struct Report: Sendable, Codable {
        public let opens: Int
        /// Median time to open a profile made with the default limits (3 passes, 256 MiB)...
        public let openDefaultMilliseconds: Double
        /// ...and with the minimum (1 pass, 8 KiB): SQLite and the unsealing alone, near enough.
        public let openMinimumMilliseconds: Double
        public let writes: Int
        /// Median time to seal and upsert one contact, committed and synced.
        public let contactWriteMicroseconds: Double
        /// The 99th percentile of the same.
        public let contactWriteP99Microseconds: Double
        /// Median time to seal and append one history entry, committed and synced, and its 99th percentile.
        public let historyWriteMicroseconds: Double
        public let historyWriteP99Microseconds: Double
        /// Messages timed in each mode of the delivery run.
        public let deliveries: Int
        /// Delivery latency, send to the receiver's loop done, history off and on (`HistoryDeliveryBenchmark`).
        public let deliveryHistoryOffMilliseconds: Double
        public let deliveryHistoryOffP99Milliseconds: Double
        public let deliveryHistoryOnMilliseconds: Double
        public let deliveryHistoryOnP99Milliseconds: Double
    }

    let opens: Int
    let writes: Int
    let deliveries: Int

    public init(quick: Bool = false) {
        opens = quick ? 2 : 5
        writes = quick ? 50 : 500
        deliveries = quick ? 20 : 200
    }

    public func run() async throws -> Report {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("catroom-bench-profile-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let directory = ProfileDirectory(path: root + "/profiles")
        let passphrase = SecretBytes(copying: Array("benchmark passphrase".utf8))
        for (name, limits) in [("default", Argon2id.Limits.moderate), ("minimum", .minimum)] {
            _ = try Profile.create(name, in: directory, passphrase: passphrase, limits: limits)
        }
        let openDefault = try Measurement.run(count: opens, warmup: 1) { _ = try Profile.open("default", in: directory, passphrase: passphrase) }
        let openMinimum = try Measurement.run(count: opens * 10, warmup: 2) { _ = try Profile.open("minimum", in: directory, passphrase: passphrase) }
        let profile = try Profile.open("minimum", in: directory, passphrase: passphrase)
        let contacts = (0..<32).map { index in
            KnownMembers.Contact(identity: IdentityKeyPair.generate().publicKey, name: "member\(index)", verified: nil, firstSeen: Date(), lastSeen: Date())
        }
        var next = 0
        let write = try Measurement.run(count: writes) {
            var contact = contacts[next % contacts.count]
            contact.lastSeen = Date()
            next += 1
            try profile.save(contact)
        }
        let room = Conversation.room("bench@rooms.localhost")
        let entry = HistoryEntry(kind: .message, time: Date(), sender: contacts[0].identity, name: "member0",
                                 text: String(repeating: "a typical chat line ", count: 4))
        let historyWrite = try Measurement.run(count: writes) { try profile.appendHistory(entry, to: room) }
        let delivery = try await HistoryDeliveryBenchmark(messages: deliveries).run(profile: profile)
        return Report(
            opens: opens, openDefaultMilliseconds: openDefault.median / 1e6, openMinimumMilliseconds: openMinimum.median / 1e6,
            writes: writes, contactWriteMicroseconds: write.median / 1e3,
            contactWriteP99Microseconds: (percentile(0.99, ofSorted: write.samples) ?? 0) / 1e3,
            historyWriteMicroseconds: historyWrite.median / 1e3,
            historyWriteP99Microseconds: (percentile(0.99, ofSorted: historyWrite.samples) ?? 0) / 1e3,
            deliveries: delivery.on.samples.count,
            deliveryHistoryOffMilliseconds: delivery.off.median / 1e6,
            deliveryHistoryOffP99Milliseconds: (percentile(0.99, ofSorted: delivery.off.samples) ?? 0) / 1e6,
            deliveryHistoryOnMilliseconds: delivery.on.median / 1e6,
            deliveryHistoryOnP99Milliseconds: (percentile(0.99, ofSorted: delivery.on.samples) ?? 0) / 1e6)
    }

    public static func json(_ report: Report) throws -> String { try prettyJSON(report) }

    public static func table(_ report: Report) -> String {
        """
        profile open, Argon2id default (3 passes, 256 MiB)  \(String(format: "%10.1f ms", report.openDefaultMilliseconds))  (median of \(report.opens))
        profile open, Argon2id minimum (1 pass, 8 KiB)      \(String(format: "%10.1f ms", report.openMinimumMilliseconds))  (median of \(report.opens * 10))
        one contact write, synced                           \(String(format: "%10.1f µs", report.contactWriteMicroseconds))  (p99 \(String(format: "%.1f", report.contactWriteP99Microseconds)) µs, \(report.writes) writes)
        one history entry write, synced                     \(String(format: "%10.1f µs", report.historyWriteMicroseconds))  (p99 \(String(format: "%.1f", report.historyWriteP99Microseconds)) µs, \(report.writes) writes)
        delivery, history off                               \(String(format: "%10.2f ms", report.deliveryHistoryOffMilliseconds))  (p99 \(String(format: "%.2f", report.deliveryHistoryOffP99Milliseconds)) ms, \(report.deliveries) messages)
        delivery, history on                                \(String(format: "%10.2f ms", report.deliveryHistoryOnMilliseconds))  (p99 \(String(format: "%.2f", report.deliveryHistoryOnP99Milliseconds)) ms, \(report.deliveries) messages, alternating)
        """
    }
}
