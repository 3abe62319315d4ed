import CSodium

/// X25519 Diffie-Hellman (RFC 7748) over libsodium's `crypto_scalarmult`.
public enum X25519 {
    public static let keyCount = 32

    /// A public key in its one canonical encoding: the u-coordinate, little-endian, below p = 2^255 - 19.
    ///
    /// RFC 7748 §5 tells receivers to ignore the high bit, so a key with it set
    /// would act exactly like the same key with it cleared; accepting both would
    /// give one key two encodings. Both that and u ≥ p are rejected here.
    /// Low-order points are rejected where they are used, in `sharedSecret`.
    public struct PublicKey: Hashable, Sendable {
        public let bytes: [UInt8]

        public init(bytes: some Collection<UInt8>) throws {
            let bytes = Array(bytes)
            guard bytes.count == keyCount, Self.isCanonical(bytes) else { throw CryptoError.invalidKey }
            self.bytes = bytes
        }

        init(trusted bytes: [UInt8]) { self.bytes = bytes }

        /// True when `u` < p and the high bit is clear.
        static func isCanonical(_ u: [UInt8]) -> Bool {
            guard u[31] & 0x80 == 0 else { return false }
            // p - 1 = 0x7fff...ffec. u ≥ p only when u[31] == 0x7f, u[1...30] are all 0xff and u[0] ≥ 0xed.
            guard u[31] == 0x7f, u[1...30].allSatisfy({ $0 == 0xff }) else { return true }
            return u[0] < 0xed
        }
    }

    /// A private scalar; libsodium clamps it on use (RFC 7748 §5 decodeScalar25519).
    public struct PrivateKey: Sendable {
        let secret: SecretBytes

        public init(secret: SecretBytes) throws {
            guard secret.count == keyCount else { throw CryptoError.invalidKey }
            self.secret = secret
        }

        /// A scalar whose length this module produced itself.
        init(sized secret: SecretBytes) {
            precondition(secret.count == keyCount)
            self.secret = secret
        }

        /// The matching public key (`crypto_scalarmult_base`).
        public var publicKey: PublicKey {
            _ = Sodium.ready
            var u = [UInt8](repeating: 0, count: keyCount)
            let status = secret.withUnsafeBytes { scalar in
                crypto_scalarmult_base(&u, scalar.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            precondition(status == 0, "crypto_scalarmult_base failed")
            return PublicKey(trusted: u)
        }

        /// DH(self, peer): throws `invalidKey` when the result is all zeros, that is
        /// when `peer` has low order (RFC 7748 §6.1's check, done by libsodium).
        public func sharedSecret(with peer: PublicKey) throws -> SecretBytes {
            _ = Sodium.ready
            var failed = false
            let shared = SecretBytes(count: keyCount) { output in
                let status = secret.withUnsafeBytes { scalar in
                    peer.bytes.withUnsafeBytes { point in
                        crypto_scalarmult(
                            output.baseAddress!.assumingMemoryBound(to: UInt8.self),
                            scalar.baseAddress!.assumingMemoryBound(to: UInt8.self),
                            point.baseAddress!.assumingMemoryBound(to: UInt8.self))
                    }
                }
                failed = status != 0
            }
            guard !failed else { throw CryptoError.invalidKey }
            return shared
        }
    }

    /// A private key with its public key computed once.
    public struct KeyPair: Sendable {
        public let privateKey: PrivateKey
        public let publicKey: PublicKey

        public init(privateKey: PrivateKey) {
            self.privateKey = privateKey
            self.publicKey = privateKey.publicKey
        }

        /// GENERATE_DH(): 32 bytes from `entropy` as the private scalar.
        public static func generate<E: EntropySource>(using entropy: inout E) -> KeyPair {
            KeyPair(privateKey: PrivateKey(sized: entropy.secret(count: keyCount)))
        }

        public static func generate() -> KeyPair {
            var entropy = SystemEntropy()
            return generate(using: &entropy)
        }
    }
}
