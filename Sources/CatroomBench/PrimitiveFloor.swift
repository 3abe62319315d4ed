import CSodium

/// The libsodium calls an operation cannot avoid, made directly on preallocated
/// buffers: the floor each catroom operation is compared with.
struct PrimitiveFloor {
    private var key = [UInt8](repeating: 7, count: 32)
    private var out = [UInt8](repeating: 0, count: 64)
    private var scalar = [UInt8](repeating: 9, count: 32)
    private let point: [UInt8]
    private var ciphertext = [UInt8](repeating: 0, count: 64 * 1024 + 16)
    private var plain = [UInt8](repeating: 2, count: 64 * 1024)
    private let input = [UInt8](repeating: 4, count: 16 * 1024)
    private let edPublic: [UInt8]
    private let edSecret: [UInt8]
    private let signature: [UInt8]
    private let signed = [UInt8](repeating: 3, count: 46)

    init() {
        precondition(sodium_init() >= 0)
        var point = [UInt8](repeating: 0, count: 32)
        var base = [UInt8](repeating: 5, count: 32)
        crypto_scalarmult_base(&point, &base)
        self.point = point
        var pk = [UInt8](repeating: 0, count: 32), sk = [UInt8](repeating: 0, count: 64)
        crypto_sign_keypair(&pk, &sk)
        var signature = [UInt8](repeating: 0, count: 64)
        crypto_sign_detached(&signature, nil, signed, UInt64(signed.count), sk)
        edPublic = pk
        edSecret = sk
        self.signature = signature
    }

    /// One HMAC-SHA-256 over `length` bytes with a 32-byte key (a KDF_CK half, or one HKDF block).
    mutating func hmac(length: Int) {
        var state = crypto_auth_hmacsha256_state()
        crypto_auth_hmacsha256_init(&state, key, 32)
        crypto_auth_hmacsha256_update(&state, input, UInt64(length))
        crypto_auth_hmacsha256_final(&state, &out)
    }

    /// X25519 with a fixed point (a DH).
    mutating func dh() { _ = crypto_scalarmult(&out, scalar, point) }

    /// X25519 with the base point (a key generation).
    mutating func keygen() { _ = crypto_scalarmult_base(&out, scalar) }

    mutating func seal(plaintext: Int, associatedData: Int) {
        var length: UInt64 = 0
        _ = crypto_aead_xchacha20poly1305_ietf_encrypt(&ciphertext, &length, plain, UInt64(plaintext), input, UInt64(associatedData), nil, out, key)
    }

    /// AEAD decryption of `plaintext` bytes (the tag fails; the work is the same as success).
    mutating func open(plaintext: Int, associatedData: Int) {
        var length: UInt64 = 0
        _ = crypto_aead_xchacha20poly1305_ietf_decrypt(&plain, &length, nil, ciphertext, UInt64(plaintext + 16), input, UInt64(associatedData), out, key)
    }

    mutating func sha256(length: Int) {
        crypto_hash_sha256(&out, input, UInt64(length))
    }

    func verify() { _ = crypto_sign_verify_detached(signature, signed, UInt64(signed.count), edPublic) }

    /// The Ed25519-to-X25519 conversions X3DH makes (one public, one private key).
    mutating func convertKeys() {
        _ = crypto_sign_ed25519_pk_to_curve25519(&out, edPublic)
        _ = crypto_sign_ed25519_sk_to_curve25519(&out, edSecret)
    }

    mutating func random(_ count: Int) { randombytes_buf(&out, min(count, out.count)) }
}
