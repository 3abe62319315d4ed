import CatroomCrypto
import Foundation

/// One line of message history (docs/profile-format.md §3.5): what the chat showed.
public struct HistoryEntry: Sendable, Equatable {
    public enum Kind: UInt8, Sendable, CaseIterable {
        case message = 1
        /// A `/me` line.
        case action = 2
        case privateIn = 3
        case privateOut = 4
        /// The topic was set (or cleared: empty text) by `name`.
        case topic = 5
    }

    public let kind: Kind
    /// This client's clock when it was shown, to the second.
    public let time: Date
    /// Nil for a topic, whose setter is known by name only.
    public let sender: IdentityKey?
    /// The sender's display name as shown.
    public let name: String
    public let text: String

    public init(kind: Kind, time: Date, sender: IdentityKey?, name: String, text: String) {
        self.kind = kind
        self.time = Date(timeIntervalSince1970: time.timeIntervalSince1970.rounded(.down))
        self.sender = sender
        self.name = name
        self.text = text
    }
}

/// Whose history a row belongs to; the file holds only its blinded handle (§3.5).
public enum Conversation: Sendable, Hashable {
    /// A room, by its bare JID (`name@rooms.domain`, canonical).
    case room(String)
    /// Private messages with the member of this identity key, in any room.
    case peer(IdentityKey)

    /// The handle's input: u8 1 ‖ the room JID (UTF-8), or u8 2 ‖ the identity key.
    var handleInput: [UInt8] {
        switch self {
        case .room(let jid): [1] + Array(jid.utf8)
        case .peer(let identity): [2] + identity.bytes
        }
    }
}

/// An entry's plaintext (docs/profile-format.md §3.5):
///
///     u8 version (1) || u8 kind || i64 time || sender identity key (32; zeros: none) ||
///     u16 name length || name (UTF-8) || u32 text length || text (UTF-8) || zeros
///
/// padded with zeros to a multiple of `block` bytes, so sizes show lengths only coarsely.
enum HistoryRecord {
    static let version: UInt8 = 1
    static let block = 64
    private static let noSender = [UInt8](repeating: 0, count: 32)

    static func encode(_ entry: HistoryEntry) -> [UInt8] {
        let name = Array(entry.name.utf8.prefix(Int(UInt16.max)))
        let text = Array(entry.text.utf8.prefix(Int(UInt32.max)))
        var bytes = [version, entry.kind.rawValue]
        bytes += SealedRow.bigEndian(UInt64(bitPattern: Int64(entry.time.timeIntervalSince1970)))
        bytes += entry.sender?.bytes ?? noSender
        bytes += [UInt8(name.count >> 8), UInt8(name.count & 0xff)] + name
        bytes += (0..<4).map { UInt8(truncatingIfNeeded: text.count >> (24 - 8 * $0)) } + text
        let padded = (bytes.count + block - 1) / block * block
        return bytes + [UInt8](repeating: 0, count: padded - bytes.count)
    }

    /// Nil unless `bytes` is exactly what `encode` makes of some entry.
    static func decode(_ bytes: [UInt8]) -> HistoryEntry? {
        var reader = Reader(bytes: bytes)
        guard bytes.count % block == 0, reader.take(1) == [version],
              let kind = reader.take(1).flatMap({ HistoryEntry.Kind(rawValue: $0[0]) }),
              let time = reader.integer(8).map({ Int64(bitPattern: $0) }), time.magnitude <= 1 << 40,
              let key = reader.take(32),
              let nameCount = reader.integer(2), let name = reader.take(Int(nameCount)).flatMap(Self.string),
              let textCount = reader.integer(4), let text = reader.take(Int(textCount)).flatMap(Self.string),
              reader.rest.allSatisfy({ $0 == 0 }), reader.rest.count < block
        else { return nil }
        let sender: IdentityKey?
        if key == noSender {
            sender = nil
        } else {
            guard let identity = try? IdentityKey(bytes: key) else { return nil }
            sender = identity
        }
        return HistoryEntry(kind: kind, time: Date(timeIntervalSince1970: TimeInterval(time)), sender: sender, name: name, text: text)
    }

    private static func string(_ bytes: [UInt8]) -> String? { String(validating: bytes, as: UTF8.self) }

    private struct Reader {
        let bytes: [UInt8]
        var offset = 0

        mutating func take(_ count: Int) -> [UInt8]? {
            guard count <= bytes.count - offset else { return nil }
            defer { offset += count }
            return Array(bytes[offset..<(offset + count)])
        }

        mutating func integer(_ count: Int) -> UInt64? { take(count)?.reduce(0) { $0 << 8 | UInt64($1) } }

        var rest: ArraySlice<UInt8> { bytes[offset...] }
    }
}
