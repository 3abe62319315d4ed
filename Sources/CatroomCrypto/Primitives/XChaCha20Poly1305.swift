import CSodium

/// XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha, libsodium's `_ietf` construction).
public enum XChaCha20Poly1305 {
    public static let keyCount = 32
    public static let nonceCount = 24
    public static let tagCount = 16

    /// Returns `ciphertext || tag`.
    public static func seal(
        _ plaintext: some RawBytes, key: some RawBytes, nonce: some RawBytes, associatedData: some RawBytes
    ) -> [UInt8] {
        _ = Sodium.ready
        return plaintext.withUnsafeBytes { message in
            [UInt8](unsafeUninitializedCapacity: message.count + tagCount) { output, written in
                key.withUnsafeBytes { key in
                    nonce.withUnsafeBytes { nonce in
                        associatedData.withUnsafeBytes { ad in
                            precondition(key.count == keyCount && nonce.count == nonceCount)
                            var length: UInt64 = 0
                            _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
                                output.baseAddress!, &length,
                                message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count),
                                ad.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(ad.count),
                                nil, nonce.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                key.baseAddress!.assumingMemoryBound(to: UInt8.self))
                            written = Int(length)
                        }
                    }
                }
            }
        }
    }

    /// Authenticates and decrypts `ciphertext || tag`; throws `decryptionFailed` on any mismatch.
    public static func open(
        _ ciphertext: some RawBytes, key: some RawBytes, nonce: some RawBytes, associatedData: some RawBytes
    ) throws -> [UInt8] {
        try openInto(ciphertext, key: key, nonce: nonce, associatedData: associatedData) { count, fill in
            var plaintext = [UInt8](repeating: 0, count: count)
            try plaintext.withUnsafeMutableBytes { try fill($0) }
            return plaintext
        }
    }

    /// Like `open`, for a plaintext that is itself key material.
    public static func openSecret(
        _ ciphertext: some RawBytes, key: some RawBytes, nonce: some RawBytes, associatedData: some RawBytes
    ) throws -> SecretBytes {
        try openInto(ciphertext, key: key, nonce: nonce, associatedData: associatedData) { count, fill in
            try SecretBytes(count: count) { try fill($0) }
        }
    }

    /// Lends the key (the first 32 bytes) and nonce (the next 24) of derived `material`:
    /// the layout of both the message and the fan-out key schedules.
    static func withKeyAndNonce<R>(
        in material: SecretBytes, _ body: (_ key: UnsafeRawBufferPointer, _ nonce: UnsafeRawBufferPointer) throws -> R
    ) rethrows -> R {
        try material.withUnsafeBytes { m in
            try body(
                UnsafeRawBufferPointer(rebasing: m[0..<keyCount]),
                UnsafeRawBufferPointer(rebasing: m[keyCount..<keyCount + nonceCount]))
        }
    }

    private static func openInto<Output>(
        _ ciphertext: some RawBytes, key: some RawBytes, nonce: some RawBytes, associatedData: some RawBytes,
        make: (Int, (UnsafeMutableRawBufferPointer) throws -> Void) throws -> Output
    ) throws -> Output {
        _ = Sodium.ready
        let count = ciphertext.withUnsafeBytes { $0.count }
        guard count >= tagCount else { throw CryptoError.decryptionFailed }
        return try make(count - tagCount) { (output: UnsafeMutableRawBufferPointer) in
            let status = ciphertext.withUnsafeBytes { ciphertext in
                key.withUnsafeBytes { key in
                    nonce.withUnsafeBytes { nonce in
                        associatedData.withUnsafeBytes { ad in
                            precondition(key.count == keyCount && nonce.count == nonceCount)
                            var length: UInt64 = 0
                            // libsodium leaves the output untouched if authentication fails.
                            return crypto_aead_xchacha20poly1305_ietf_decrypt(
                                output.baseAddress?.assumingMemoryBound(to: UInt8.self), &length, nil,
                                ciphertext.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(ciphertext.count),
                                ad.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(ad.count),
                                nonce.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                key.baseAddress!.assumingMemoryBound(to: UInt8.self))
                        }
                    }
                }
            }
            guard status == 0 else { throw CryptoError.decryptionFailed }
        }
    }
}
