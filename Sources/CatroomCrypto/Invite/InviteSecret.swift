/// A room's invite secret (CR-0008): random bytes handed out of band with the
/// join command. Each member holding it proves so to each other member inside the
/// hello, with a proof bound to the room and to both identity keys of their session,
/// so a server that substitutes a key at first contact cannot produce one.
public struct InviteSecret: Sendable {
    /// 256 bits (CR-0008 §5.1).
    public static let byteCount = 32
    public static let proofCount = HMACSHA256.byteCount

    private let secret: SecretBytes

    /// Takes exactly `byteCount` bytes.
    public init(_ secret: SecretBytes) throws {
        guard secret.count == Self.byteCount else { throw CryptoError.invalidKey }
        self.secret = secret
    }

    private init(generated secret: SecretBytes) { self.secret = secret }

    /// Parses the text form: lowercase base32 without padding (52 characters), as `encoded` writes it.
    public init(encoded text: some StringProtocol) throws {
        guard var bytes = Base32.decode(text.lowercased()) else { throw CryptoError.malformed }
        defer { bytes.withUnsafeMutableBytes { zero($0) } }
        try self.init(SecretBytes(copying: bytes))
    }

    /// A fresh secret from `entropy` (libsodium's CSPRNG unless a test scripts it).
    public static func generate(using entropy: inout some EntropySource) -> InviteSecret {
        InviteSecret(generated: entropy.secret(count: byteCount))
    }

    public static func generate() -> InviteSecret {
        var entropy = SystemEntropy()
        return generate(using: &entropy)
    }

    /// The text form, for the join command: it leaves the process as text anyway.
    public var encoded: String { secret.withUnsafeBytes { Base32.encode($0) } }

    /// invite_key = HKDF(salt = zeros(32), ikm = secret, info = "catroom-invite-key-v1" || room_len (u16) || room, L = 32) (CR-0008 §5.2).
    public func inviteKey(room: String) throws -> SecretBytes {
        var info = ByteWriter()
        info.append(Label.inviteKey)
        try info.appendString(Self.checked(room))
        return HKDF.deriveKey(salt: [UInt8](repeating: 0, count: 32), inputKeyMaterial: secret, info: info.bytes, outputCount: 32)
    }

    /// proof = HMAC-SHA-256(invite_key, "catroom-invite-proof-v1" || room_len (u16) || room || IK_sender || IK_recipient)
    /// (CR-0008 §5.3): from `sender` to `recipient` only, so it cannot be reflected.
    public func proof(room: String, sender: IdentityKey, recipient: IdentityKey) throws -> [UInt8] {
        var message = ByteWriter()
        message.append(Label.inviteProof)
        try message.appendString(Self.checked(room))
        message.append(sender.bytes)
        message.append(recipient.bytes)
        return try HMACSHA256.authenticate(key: inviteKey(room: room), message: message.bytes)
    }

    /// Whether `proof` is the one `sender` owes `recipient` in `room`; compared in constant time (CR-0008 §5.4).
    public func verify(_ proof: [UInt8], room: String, sender: IdentityKey, recipient: IdentityKey) -> Bool {
        guard let expected = try? self.proof(room: room, sender: sender, recipient: recipient) else { return false }
        return constantTimeEqual(proof, expected)
    }

    private static func checked(_ room: String) throws -> String {
        guard !room.isEmpty, room.utf8.count <= Limits.maxRoomBytes else { throw CryptoError.malformed }
        return room
    }
}
