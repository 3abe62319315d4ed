/// What a fan-out message is bound to (CR-0002 §5.1): where it was sent, by whom,
/// to whom, and the commitment to its payload key.
///
/// Its encoding is hashed into the context digest D0, which authenticates the
/// payload and, with the payload's own hash, every recipient's key entry; so a
/// relay can neither move a message between rooms or from room to side chat, nor
/// relabel its sender, nor add, drop or reorder recipients, nor swap the payload,
/// without every recipient noticing.
public struct FanoutContext: Hashable, Sendable {
    public enum Kind: UInt8, Sendable {
        /// A groupchat message to every listed member.
        case room = 1
        /// A side chat: exactly one recipient.
        case privateChat = 2
    }

    public static let version: UInt8 = 2
    public static let messageIDCount = 16
    public static let commitmentCount = 32

    public let kind: Kind
    /// The room's bare address, e.g. `lobby@rooms.example.org`.
    public let room: String
    /// The sender's account id.
    public let sender: String
    /// 16 random bytes chosen by the sender.
    public let messageID: [UInt8]
    /// Recipient account ids in ascending byte order, without duplicates.
    public let recipients: [String]
    /// The payload key's commitment (see `Fanout`).
    public let commitment: [UInt8]
    /// D0 = SHA-256(encoded context): the associated data of the payload. Computed
    /// once, since a room's context runs to kilobytes and both sealing and opening need it.
    public private(set) var digest: [UInt8] = []

    /// Validates every field and sorts `recipients`; duplicates, the sender among
    /// the recipients, or a side chat to anything but one recipient are `contextMismatch`.
    public init(kind: Kind, room: String, sender: String, messageID: [UInt8], recipients: [String], commitment: [UInt8]) throws {
        guard messageID.count == Self.messageIDCount, commitment.count == Self.commitmentCount,
              !room.isEmpty, room.utf8.count <= Limits.maxRoomBytes,
              Self.isValidID(sender), recipients.allSatisfy(Self.isValidID),
              !recipients.isEmpty, recipients.count <= Limits.maxFanoutRecipients
        else { throw CryptoError.malformed }
        let sorted = recipients.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        guard zip(sorted, sorted.dropFirst()).allSatisfy({ $0 != $1 }), !sorted.contains(sender),
              kind == .room || sorted.count == 1
        else { throw CryptoError.contextMismatch }
        self.kind = kind
        self.room = room
        self.sender = sender
        self.messageID = messageID
        self.recipients = sorted
        self.commitment = commitment
        digest = SHA256.hash(encoded)
    }

    private static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= Limits.maxFanoutIDBytes
    }

    /// CR-0002 §5.1:
    ///
    ///     version (0x02) || kind (u8) || len (u16) || room || len (u8) || sender
    ///     || message_id (16) || count (u16) || (len (u8) || recipient)* || commitment (32)
    public var encoded: [UInt8] {
        var writer = ByteWriter(capacity: 64 + room.utf8.count + recipients.count * 34)
        writer.append(Self.version)
        writer.append(kind.rawValue)
        writer.appendString(room)
        writer.appendShortString(sender)
        writer.append(messageID)
        writer.append(UInt16(recipients.count))
        for recipient in recipients { writer.appendShortString(recipient) }
        writer.append(commitment)
        return writer.bytes
    }

    /// D = SHA-256("catroom-entry-v2" || D0 || SHA-256(payload)): the associated data
    /// of every key entry, so the sender's entry vouches for the exact payload bytes.
    public func entryDigest(payload: [UInt8]) -> [UInt8] {
        SHA256.hash(Label.fanoutEntry + digest + SHA256.hash(payload))
    }
}
