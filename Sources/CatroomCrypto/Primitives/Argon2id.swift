import CSodium

/// Argon2id (RFC 9106), libsodium's `crypto_pwhash` with `ALG_ARGON2ID13`: a key from a passphrase.
public enum Argon2id {
    /// `crypto_pwhash_SALTBYTES`.
    public static let saltCount = 16

    /// The work factors, stored beside the salt so that the same key can be derived again.
    public struct Limits: Equatable, Sendable {
        /// Passes over memory (`opslimit`).
        public let operations: UInt64
        /// Memory in bytes (`memlimit`).
        public let memoryBytes: UInt64

        public init(operations: UInt64, memoryBytes: UInt64) {
            self.operations = operations
            self.memoryBytes = memoryBytes
        }

        /// libsodium's interactive-use default: 3 passes over 256 MiB.
        public static let moderate = Limits(operations: 3, memoryBytes: 256 << 20)
        /// The least libsodium accepts (1 pass, 8 KiB): for tests only, it protects nothing.
        public static let minimum = Limits(operations: 1, memoryBytes: 8 << 10)
        /// The most accepted from a file, libsodium's "sensitive" (4 passes, 1 GiB): it takes
        /// absurd limits, and a damaged or hostile file must not make it allocate without bound.
        public static let maximum = Limits(operations: 4, memoryBytes: 1 << 30)

        /// Within `minimum` and `maximum`.
        public var isAcceptable: Bool {
            (Self.minimum.operations...Self.maximum.operations).contains(operations)
                && (Self.minimum.memoryBytes...Self.maximum.memoryBytes).contains(memoryBytes)
        }
    }

    /// A `count`-byte key from `passphrase` and a `saltCount`-byte salt.
    /// Throws `invalidKey` for an empty passphrase or limits out of range and `outOfMemory` when the memory cannot be had.
    public static func deriveKey(count: Int, passphrase: SecretBytes, salt: [UInt8], limits: Limits) throws -> SecretBytes {
        _ = Sodium.ready
        guard salt.count == saltCount, limits.isAcceptable, count >= 16, passphrase.count > 0 else { throw CryptoError.invalidKey }
        return try SecretBytes(count: count) { key in
            let status = passphrase.withUnsafeBytes { passphrase in
                crypto_pwhash(
                    key.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(count),
                    passphrase.baseAddress!.assumingMemoryBound(to: CChar.self), UInt64(passphrase.count),
                    salt, limits.operations, Int(limits.memoryBytes), crypto_pwhash_alg_argon2id13())
            }
            guard status == 0 else { throw CryptoError.outOfMemory }
        }
    }
}
