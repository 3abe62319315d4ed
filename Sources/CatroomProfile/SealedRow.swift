import CatroomCrypto

/// A row's content sealed to its place (docs/profile-format.md §3): nonce (24 bytes) ||
/// XChaCha20-Poly1305 ciphertext || tag, with associated data naming the table and the
/// row's key, so that a box moved to another row or table fails to authenticate.
enum SealedRow {
    static let label = Array("catroom-profile-v1".utf8)

    /// label || u8(len(place)) || place || key.
    static func associatedData(place: String, key: [UInt8]) -> [UInt8] {
        let place = Array(place.utf8)
        return label + [UInt8(place.count)] + place + key
    }

    static func seal(_ plaintext: some RawBytes, key: SecretBytes, nonce: [UInt8] = randomBytes(count: XChaCha20Poly1305.nonceCount),
                     associatedData: [UInt8]) -> [UInt8] {
        nonce + XChaCha20Poly1305.seal(plaintext, key: key, nonce: nonce, associatedData: associatedData)
    }

    /// Throws `CryptoError.decryptionFailed` if the box is short or does not authenticate.
    static func open(_ box: [UInt8], key: SecretBytes, associatedData: [UInt8]) throws -> [UInt8] {
        guard box.count >= XChaCha20Poly1305.nonceCount + XChaCha20Poly1305.tagCount else { throw CryptoError.decryptionFailed }
        return try XChaCha20Poly1305.open(
            box[XChaCha20Poly1305.nonceCount...], key: key, nonce: box[..<XChaCha20Poly1305.nonceCount], associatedData: associatedData)
    }

    static func openSecret(_ box: [UInt8], key: SecretBytes, associatedData: [UInt8]) throws -> SecretBytes {
        guard box.count >= XChaCha20Poly1305.nonceCount + XChaCha20Poly1305.tagCount else { throw CryptoError.decryptionFailed }
        return try XChaCha20Poly1305.openSecret(
            box[XChaCha20Poly1305.nonceCount...], key: key, nonce: box[..<XChaCha20Poly1305.nonceCount], associatedData: associatedData)
    }

    static func bigEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }
    }
}
