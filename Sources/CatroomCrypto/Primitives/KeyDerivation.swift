import CSodium

/// Subkeys of a master key (`crypto_kdf_derive_from_key`, BLAKE2b): one per purpose,
/// named by an 8-byte context and a number.
public enum SubkeyDerivation {
    /// `crypto_kdf_KEYBYTES`.
    public static let masterKeyCount = 32

    /// The `id`th `count`-byte subkey of `masterKey` in `context` (exactly 8 ASCII characters).
    public static func subkey(count: Int, id: UInt64, context: String, masterKey: SecretBytes) -> SecretBytes {
        _ = Sodium.ready
        let context = Array(context.utf8).map { CChar(bitPattern: $0) }
        precondition(context.count == 8 && masterKey.count == masterKeyCount && (16...64).contains(count))
        return SecretBytes(count: count) { subkey in
            masterKey.withUnsafeBytes { master in
                _ = crypto_kdf_derive_from_key(
                    subkey.baseAddress!.assumingMemoryBound(to: UInt8.self), count, id, context,
                    master.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
    }
}

/// Keyed BLAKE2b (`crypto_generichash`): a pseudorandom function, for handles that
/// must not reveal what they name to anyone without the key.
public enum KeyedHash {
    /// The 32-byte BLAKE2b of `message` under `key` (16 to 64 bytes).
    public static func hash(_ message: some RawBytes, key: SecretBytes) -> [UInt8] {
        _ = Sodium.ready
        var output = [UInt8](repeating: 0, count: 32)
        message.withUnsafeBytes { message in
            key.withUnsafeBytes { key in
                precondition((16...64).contains(key.count))
                _ = crypto_generichash(
                    &output, output.count, message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count),
                    key.baseAddress!.assumingMemoryBound(to: UInt8.self), key.count)
            }
        }
        return output
    }
}
