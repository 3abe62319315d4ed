/// A Double Ratchet header (§3.1 HEADER): the sender's ratchet public key, PN and N.
public struct RatchetHeader: Hashable, Sendable {
    public let ratchetKey: X25519.PublicKey
    /// PN: the number of messages in the sender's previous sending chain.
    public let previousChainLength: UInt32
    /// N: this message's number in the current sending chain.
    public let messageNumber: UInt32

    public init(ratchetKey: X25519.PublicKey, previousChainLength: UInt32, messageNumber: UInt32) {
        self.ratchetKey = ratchetKey
        self.previousChainLength = previousChainLength
        self.messageNumber = messageNumber
    }
}

/// The X3DH part of an initial message (X3DH §3.3): IK_A, EK_A and the prekeys Bob should use.
public struct PreKeyInfo: Hashable, Sendable {
    public let identityKey: IdentityKey
    public let baseKey: X25519.PublicKey
    public let signedPreKeyID: UInt32
    public let oneTimePreKeyID: UInt32?

    public init(identityKey: IdentityKey, baseKey: X25519.PublicKey, signedPreKeyID: UInt32, oneTimePreKeyID: UInt32?) {
        self.identityKey = identityKey
        self.baseKey = baseKey
        self.signedPreKeyID = signedPreKeyID
        self.oneTimePreKeyID = oneTimePreKeyID
    }

    /// IK_A (32) || EK_A (32) || spk_id (u32) || has_opk (u8) || [opk_id (u32)]
    func write(to writer: inout ByteWriter) {
        writer.append(identityKey.bytes)
        writer.append(baseKey.bytes)
        writer.append(signedPreKeyID)
        if let id = oneTimePreKeyID {
            writer.append(UInt8(1))
            writer.append(id)
        } else {
            writer.append(UInt8(0))
        }
    }

    init(reading reader: inout ByteReader) throws {
        identityKey = try IdentityKey(bytes: reader.read(count: IdentityKey.byteCount))
        baseKey = try X25519.PublicKey(bytes: reader.read(count: X25519.keyCount))
        signedPreKeyID = try reader.readUInt32()
        switch try reader.readByte() {
        case 0: oneTimePreKeyID = nil
        case 1: oneTimePreKeyID = try reader.readUInt32()
        default: throw CryptoError.malformed
        }
    }
}

/// One pairwise message (CR-0001 §5.5): a ratchet message, or, until the initiator
/// has heard back, the same with the X3DH initial-message fields in front.
///
///     version (0x01) || type (0x01 ratchet, 0x02 prekey)
///     [prekey: IK_A (32) || EK_A (32) || spk_id (u32) || has_opk (u8) || [opk_id (u32)]]
///     DH (32) || PN (u32) || N (u32) || ciphertext || tag (16)
///
/// Everything before the ciphertext is the encoded header, authenticated as part of the AD.
public struct SessionMessage: Hashable, Sendable {
    public static let version: UInt8 = 1
    static let ratchetType: UInt8 = 1
    static let preKeyType: UInt8 = 2

    public let preKey: PreKeyInfo?
    public let header: RatchetHeader
    public let ciphertext: [UInt8]

    public init(preKey: PreKeyInfo?, header: RatchetHeader, ciphertext: [UInt8]) {
        self.preKey = preKey
        self.header = header
        self.ciphertext = ciphertext
    }

    /// True for an X3DH initial message.
    public var isPreKeyMessage: Bool { preKey != nil }

    /// The encoded header: every byte before the ciphertext.
    var authenticatedPrefix: [UInt8] {
        Self.prefix(preKey: preKey, header: header)
    }

    static func prefix(preKey: PreKeyInfo?, header: RatchetHeader) -> [UInt8] {
        var writer = ByteWriter(capacity: 120)
        writer.append(version)
        if let preKey {
            writer.append(preKeyType)
            preKey.write(to: &writer)
        } else {
            writer.append(ratchetType)
        }
        writer.append(header.ratchetKey.bytes)
        writer.append(header.previousChainLength)
        writer.append(header.messageNumber)
        return writer.bytes
    }

    public var encoded: [UInt8] { authenticatedPrefix + ciphertext }

    /// Parses an encoded message, rejecting unknown versions first and non-canonical keys.
    public init(decoding bytes: some RawBytes) throws {
        self = try bytes.withUnsafeBytes { buffer in
            var reader = ByteReader(buffer)
            let version = try reader.readByte()
            guard version == Self.version else { throw CryptoError.unsupportedVersion(version) }
            var preKey: PreKeyInfo?
            switch try reader.readByte() {
            case Self.ratchetType:
                break
            case Self.preKeyType:
                preKey = try PreKeyInfo(reading: &reader)
            default:
                throw CryptoError.malformed
            }
            let header = RatchetHeader(
                ratchetKey: try X25519.PublicKey(bytes: reader.read(count: X25519.keyCount)),
                previousChainLength: try reader.readUInt32(),
                messageNumber: try reader.readUInt32())
            guard reader.remaining >= XChaCha20Poly1305.tagCount else { throw CryptoError.malformed }
            return SessionMessage(preKey: preKey, header: header, ciphertext: reader.readRest())
        }
    }
}
