import CatroomClient
import CatroomCrypto
import Foundation

/// A contact's plaintext (docs/profile-format.md §3.3), padded so that every record
/// whose name fits in 68 bytes has the same size and the file does not show names' lengths:
///
///     u8 version (1) || identity key (32) || i64 first seen || i64 last seen ||
///     u8 verified (0 or 1) || i64 verified at || u16 name length || name (UTF-8) || zeros
///
/// Integers are big-endian; times are whole seconds since 1970; the whole is padded with
/// zeros to a multiple of `block` bytes.
enum ContactRecord {
    static let version: UInt8 = 1
    static let block = 128
    private static let fixedCount = 1 + 32 + 8 + 8 + 1 + 8 + 2

    static func encode(_ contact: KnownMembers.Contact) -> [UInt8] {
        let name = Array((contact.name ?? "").utf8.prefix(Int(UInt16.max)))
        var bytes = [version] + contact.identity.bytes
        bytes += time(contact.firstSeen) + time(contact.lastSeen)
        bytes += [contact.verified == nil ? 0 : 1] + time(contact.verified ?? Date(timeIntervalSince1970: 0))
        bytes += [UInt8(name.count >> 8), UInt8(name.count & 0xff)] + name
        let padded = (bytes.count + block - 1) / block * block
        return bytes + [UInt8](repeating: 0, count: padded - bytes.count)
    }

    /// Nil unless `bytes` is exactly what `encode` makes of some contact.
    static func decode(_ bytes: [UInt8]) -> KnownMembers.Contact? {
        guard bytes.count >= fixedCount, bytes.count % block == 0, bytes[0] == version,
              let identity = try? IdentityKey(bytes: bytes[1..<33]) else { return nil }
        let nameCount = Int(bytes[58]) << 8 | Int(bytes[59])
        // Unverified, the time is 0 (§3.3).
        guard fixedCount + nameCount <= bytes.count, bytes[(fixedCount + nameCount)...].allSatisfy({ $0 == 0 }),
              bytes[49] == 1 || (bytes[49] == 0 && bytes[50..<58].allSatisfy { $0 == 0 }) else { return nil }
        let nameBytes = bytes[fixedCount..<(fixedCount + nameCount)]
        guard let name = String(validating: nameBytes, as: UTF8.self),
              let firstSeen = date(bytes[33..<41]), let lastSeen = date(bytes[41..<49]), let verified = date(bytes[50..<58])
        else { return nil }
        return KnownMembers.Contact(
            identity: identity, name: nameCount == 0 ? nil : name, verified: bytes[49] == 1 ? verified : nil,
            firstSeen: firstSeen, lastSeen: lastSeen)
    }

    private static func time(_ date: Date) -> [UInt8] {
        SealedRow.bigEndian(UInt64(bitPattern: Int64(date.timeIntervalSince1970.rounded(.down))))
    }

    /// Nil beyond ±2^40 seconds (some 35 000 years), which no clock writes and which
    /// could not be written back.
    private static func date(_ bytes: ArraySlice<UInt8>) -> Date? {
        let seconds = Int64(bitPattern: bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        guard seconds.magnitude <= 1 << 40 else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }
}
