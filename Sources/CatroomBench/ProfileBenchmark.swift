import CatroomClient
import CatroomCrypto
import CatroomProfile
import Foundation

/// `catroom bench profile`: what a profile costs (docs/profile-format.md): opening it,
/// which is mostly Argon2id at the default limits (beside the minimum, which shows what
/// is not the hash), and writing one contact update, synced (`synchronous=FULL`).
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
    }

    let opens: Int
    let writes: Int

    public init(quick: Bool = false) {
        opens = quick ? 2 : 5
        writes = quick ? 50 : 500
    }

    public func run() throws -> Report {
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
        return Report(
            opens: opens, openDefaultMilliseconds: openDefault.median / 1e6, openMinimumMilliseconds: openMinimum.median / 1e6,
            writes: writes, contactWriteMicroseconds: write.median / 1e3,
            contactWriteP99Microseconds: (percentile(0.99, ofSorted: write.samples) ?? 0) / 1e3)
    }

    public static func json(_ report: Report) throws -> String { try prettyJSON(report) }

    public static func table(_ report: Report) -> String {
        """
        profile open, Argon2id default (3 passes, 256 MiB)  \(String(format: "%10.1f ms", report.openDefaultMilliseconds))  (median of \(report.opens))
        profile open, Argon2id minimum (1 pass, 8 KiB)      \(String(format: "%10.1f ms", report.openMinimumMilliseconds))  (median of \(report.opens * 10))
        one contact write, synced                           \(String(format: "%10.1f µs", report.contactWriteMicroseconds))  (p99 \(String(format: "%.1f", report.contactWriteP99Microseconds)) µs, \(report.writes) writes)
        """
    }
}
