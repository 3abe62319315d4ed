import CSodium

/// A member's public identity: an Ed25519 public key (RFC 8032) in its canonical encoding.
///
/// It signs (prekeys, the registration challenge) and, converted to X25519,
/// takes part in X3DH. The account id and fingerprints are derived from it.
public struct IdentityKey: Hashable, Sendable {
    public static let byteCount = 32
    public static let signatureCount = 64

    public let bytes: [UInt8]

    /// Accepts only a canonical encoding of a point of prime order
    /// (`crypto_core_ed25519_is_valid_point`): no small-order or mixed-order
    /// points and no second encoding of one point (SECURITY-CASES PC-08).
    public init(bytes: some Collection<UInt8>) throws {
        _ = Sodium.ready
        let bytes = Array(bytes)
        guard bytes.count == Self.byteCount, crypto_core_ed25519_is_valid_point(bytes) == 1 else {
            throw CryptoError.invalidKey
        }
        self.bytes = bytes
    }

    init(trusted bytes: [UInt8]) { self.bytes = bytes }

    /// The X25519 form used in X3DH (`crypto_sign_ed25519_pk_to_curve25519`).
    public var agreementKey: X25519.PublicKey {
        var u = [UInt8](repeating: 0, count: X25519.keyCount)
        // Cannot fail for a key that passed `init`'s validity check.
        precondition(crypto_sign_ed25519_pk_to_curve25519(&u, bytes) == 0)
        return X25519.PublicKey(trusted: u)
    }

    /// Verifies an Ed25519 signature over `context || message`.
    ///
    /// libsodium rejects S ≥ L and small-order R (SECURITY-CASES PC-08).
    public func isValidSignature(_ signature: some Collection<UInt8>, context: [UInt8], message: some RawBytes) -> Bool {
        let signature = Array(signature)
        guard signature.count == Self.signatureCount else { return false }
        let signed = message.withUnsafeBytes { context + Array($0) }
        return crypto_sign_verify_detached(signature, signed, UInt64(signed.count), bytes) == 0
    }

    /// The account localpart: lowercase base32 (RFC 4648, no padding) of the first
    /// 20 bytes of SHA-256("catroom-id-v1" || key); 32 characters.
    public var accountID: String {
        Base32.encode(SHA256.hash(Label.accountID, bytes).prefix(20))
    }

    /// The key in hex, in eight groups of eight characters, for out-of-band comparison.
    public var fingerprint: String {
        let hex = bytes.hexString
        return stride(from: 0, to: hex.count, by: 8).map { offset in
            let start = hex.index(hex.startIndex, offsetBy: offset)
            return String(hex[start..<hex.index(start, offsetBy: 8)])
        }.joined(separator: " ")
    }
}

/// An identity key pair: Ed25519 seed-derived secret key plus its public key.
public struct IdentityKeyPair: Sendable {
    public static let seedCount = 32

    /// libsodium's 64-byte secret key (seed || public key).
    let secretKey: SecretBytes
    public let publicKey: IdentityKey

    /// Derives the key pair from a 32-byte seed (`crypto_sign_seed_keypair`).
    public init(seed: SecretBytes) throws {
        guard seed.count == Self.seedCount else { throw CryptoError.invalidKey }
        self.init(sized: seed)
    }

    private init(sized seed: SecretBytes) {
        _ = Sodium.ready
        precondition(seed.count == Self.seedCount)
        var publicKey = [UInt8](repeating: 0, count: IdentityKey.byteCount)
        secretKey = SecretBytes(count: 64) { secret in
            seed.withUnsafeBytes { seed in
                _ = crypto_sign_seed_keypair(
                    &publicKey, secret.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    seed.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        self.publicKey = IdentityKey(trusted: publicKey)
    }

    /// The 32-byte seed `init(seed:)` takes back: what a profile stores.
    public var seed: SecretBytes { secretKey.slice(0..<Self.seedCount) }

    public static func generate<E: EntropySource>(using entropy: inout E) -> IdentityKeyPair {
        IdentityKeyPair(sized: entropy.secret(count: seedCount))
    }

    public static func generate() -> IdentityKeyPair {
        var entropy = SystemEntropy()
        return generate(using: &entropy)
    }

    /// Signs `context || message` (Ed25519, deterministic).
    public func signature(context: [UInt8], message: some RawBytes) -> [UInt8] {
        let signed = message.withUnsafeBytes { context + Array($0) }
        var signature = [UInt8](repeating: 0, count: IdentityKey.signatureCount)
        secretKey.withUnsafeBytes { secret in
            _ = crypto_sign_detached(
                &signature, nil, signed, UInt64(signed.count), secret.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return signature
    }

    /// The X25519 form of the private key (`crypto_sign_ed25519_sk_to_curve25519`).
    public var agreementKey: X25519.PrivateKey {
        let scalar = SecretBytes(count: X25519.keyCount) { scalar in
            secretKey.withUnsafeBytes { secret in
                _ = crypto_sign_ed25519_sk_to_curve25519(
                    scalar.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    secret.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        return X25519.PrivateKey(sized: scalar)
    }
}
