/// The room safety code (CR-0007): one code over a room's address and the
/// (account id, identity key) pairs of its members, the same for every member
/// whose view of the room is the same. Comparing it once out of band shows a
/// ghost occupant or a substituted key to the whole room at once.
public struct SafetyCode: Hashable, Sendable {
    /// One roster entry: a member's account id and its identity key.
    public struct Member: Hashable, Sendable {
        public let id: String
        public let identity: IdentityKey

        public init(id: String, identity: IdentityKey) {
            self.id = id
            self.identity = identity
        }
    }

    /// Groups of five decimal digits; each is 4 digest bytes, so all 32 are used (§5.3).
    public static let groupCount = 8
    public static let digitsPerGroup = 5

    /// SHA-256 of the encoded roster (§5.2).
    public let digest: [UInt8]
    /// The members it covers, the viewer included.
    public let memberCount: Int

    /// The code for `members` (in any order; the viewer among them) in `room`, the
    /// room's canonical bare address. A roster that breaks a rule of §5.1 (none, too
    /// many, an id or key twice, an id or the room empty or too long) is `malformed`.
    public init(room: String, members: [Member]) throws {
        digest = SHA256.hash(try Self.encode(room: room, members: members))
        memberCount = members.count
    }

    /// CR-0007 §5.1, the members sorted by the bytes of their ids:
    ///
    ///     "catroom-safety-v1" || len (u16) || room || count (u16) || (len (u8) || id || IK (32))*
    static func encode(room: String, members: [Member]) throws -> [UInt8] {
        let sorted = members.sorted { $0.id.utf8.lexicographicallyPrecedes($1.id.utf8) }
        guard !room.isEmpty, room.utf8.count <= Limits.maxRoomBytes,
              !sorted.isEmpty, sorted.count <= Int(UInt16.max),
              sorted.allSatisfy({ !$0.id.isEmpty && $0.id.utf8.count <= Limits.maxFanoutIDBytes }),
              // Bytes, not Swift's `==`, which equates canonically equivalent strings.
              zip(sorted, sorted.dropFirst()).allSatisfy({ !$0.id.utf8.elementsEqual($1.id.utf8) }),
              Set(sorted.map(\.identity)).count == sorted.count
        else { throw CryptoError.malformed }
        var writer = ByteWriter(capacity: 64 + room.utf8.count + sorted.count * 66)
        writer.append(Label.safetyCode)
        writer.appendString(room)
        writer.append(UInt16(sorted.count))
        for member in sorted {
            writer.appendShortString(member.id)
            writer.append(member.identity.bytes)
        }
        return writer.bytes
    }

    /// The groups of §5.3: each the big-endian integer of 4 digest bytes, mod 100000,
    /// written with five digits.
    public var groups: [String] {
        (0..<Self.groupCount).map { index in
            let value = digest[index * 4..<index * 4 + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } % 100_000
            let digits = String(value)
            return String(repeating: "0", count: Self.digitsPerGroup - digits.count) + digits
        }
    }

    /// The code as shown: eight groups of five digits separated by spaces.
    public var text: String { groups.joined(separator: " ") }
}
