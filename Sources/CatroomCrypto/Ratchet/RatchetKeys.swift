/// The root key RK (Double Ratchet §2.3).
struct RootKey: Sendable {
    let secret: SecretBytes

    /// KDF_RK(rk, dh_out) (§5.2): HKDF(salt = rk, IKM = dh_out, info = "catroom-ratchet-v1"), 64 bytes
    /// split into the next root key and a chain key.
    func ratchet(with dhOutput: SecretBytes) -> (RootKey, ChainKey) {
        let output = HKDF.deriveKey(salt: secret, inputKeyMaterial: dhOutput, info: Label.rootChain, outputCount: 64)
        return (RootKey(secret: output.slice(0..<32)), ChainKey(secret: output.slice(32..<64)))
    }
}

/// A sending or receiving chain key CK (Double Ratchet §2.2).
struct ChainKey: Sendable {
    let secret: SecretBytes

    /// KDF_CK(ck) (§5.2): mk = HMAC-SHA-256(ck, 0x01), next ck = HMAC-SHA-256(ck, 0x02).
    func step() -> (MessageKey, ChainKey) {
        secret.withUnsafeBytes { ck in
            // Both MACs share the key, so the keyed state is computed once and copied.
            var keyed = HMACSHA256(key: ck)
            var forMessage = keyed
            let messageKey = SecretBytes(count: 32) { mk in
                forMessage.update(byte: 0x01)
                forMessage.finalize(into: mk)
            }
            let next = SecretBytes(count: 32) { next in
                keyed.update(byte: 0x02)
                keyed.finalize(into: next)
            }
            return (MessageKey(secret: messageKey), ChainKey(secret: next))
        }
    }
}

/// A message key mk (Double Ratchet §2.2), used for exactly one message.
struct MessageKey: Sendable {
    let secret: SecretBytes

    /// ENCRYPT's key schedule (§5.2, with XChaCha20-Poly1305 in place of AES-CBC + HMAC):
    /// HKDF(salt = 32 zero bytes, IKM = mk, info = "catroom-message-v1"), 56 bytes = key (32) || nonce (24).
    /// The nonce may be deterministic because every message key is used once.
    func aeadKeyAndNonce() -> SecretBytes {
        HKDF.deriveKey(
            salt: EmptySalt.zeros, inputKeyMaterial: secret, info: Label.messageKeys,
            outputCount: XChaCha20Poly1305.keyCount + XChaCha20Poly1305.nonceCount)
    }

    func seal(_ plaintext: some RawBytes, associatedData: [UInt8]) -> [UInt8] {
        XChaCha20Poly1305.withKeyAndNonce(in: aeadKeyAndNonce()) { key, nonce in
            XChaCha20Poly1305.seal(plaintext, key: key, nonce: nonce, associatedData: associatedData)
        }
    }

    func open(_ ciphertext: [UInt8], associatedData: [UInt8]) throws -> SecretBytes {
        try XChaCha20Poly1305.withKeyAndNonce(in: aeadKeyAndNonce()) { key, nonce in
            try XChaCha20Poly1305.openSecret(ciphertext, key: key, nonce: nonce, associatedData: associatedData)
        }
    }
}

/// The 32 zero bytes used as HKDF salt wherever a spec says "zero-filled".
enum EmptySalt {
    static let zeros = [UInt8](repeating: 0, count: 32)
}
