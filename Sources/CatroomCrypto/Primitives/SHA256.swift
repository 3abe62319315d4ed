import CSodium

/// SHA-256 (`crypto_hash_sha256`).
public enum SHA256 {
    public static let byteCount = 32

    /// The digest of the concatenation of `parts`.
    public static func hash(_ parts: any RawBytes...) -> [UInt8] {
        _ = Sodium.ready
        var state = crypto_hash_sha256_state()
        crypto_hash_sha256_init(&state)
        for part in parts {
            part.withUnsafeBytes { bytes in
                if let base = bytes.baseAddress {
                    crypto_hash_sha256_update(&state, base, UInt64(bytes.count))
                }
            }
        }
        var digest = [UInt8](repeating: 0, count: byteCount)
        crypto_hash_sha256_final(&state, &digest)
        return digest
    }
}
