import CSodium

/// HMAC-SHA-256 (RFC 2104) on libsodium's incremental API, which takes keys of any length.
///
/// A value type holding the running state; the state is wiped when finalised.
public struct HMACSHA256 {
    public static let byteCount = 32

    private var state = crypto_auth_hmacsha256_state()

    init(key: UnsafeRawBufferPointer) {
        _ = Sodium.ready
        if let base = key.baseAddress {
            crypto_auth_hmacsha256_init(&state, base.assumingMemoryBound(to: UInt8.self), key.count)
        } else {
            // An empty key (RFC 5869's default salt is padded to the same thing).
            var none: UInt8 = 0
            crypto_auth_hmacsha256_init(&state, &none, 0)
        }
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        crypto_auth_hmacsha256_update(&state, base, UInt64(bytes.count))
    }

    mutating func update(byte: UInt8) {
        var byte = byte
        crypto_auth_hmacsha256_update(&state, &byte, 1)
    }

    /// Writes the 32-byte tag to `output` and wipes the state.
    mutating func finalize(into output: UnsafeMutableRawBufferPointer) {
        precondition(output.count >= Self.byteCount)
        crypto_auth_hmacsha256_final(&state, output.baseAddress!.assumingMemoryBound(to: UInt8.self))
        sodium_memzero(&state, MemoryLayout<crypto_auth_hmacsha256_state>.size)
    }

    /// Wipes a state that will not be finalised (a copied template).
    mutating func wipe() {
        sodium_memzero(&state, MemoryLayout<crypto_auth_hmacsha256_state>.size)
    }

    /// One-shot HMAC of `message` under `key`.
    public static func authenticate(key: some RawBytes, message: some RawBytes) -> [UInt8] {
        var tag = [UInt8](repeating: 0, count: byteCount)
        key.withUnsafeBytes { key in
            var mac = HMACSHA256(key: key)
            message.withUnsafeBytes { mac.update($0) }
            tag.withUnsafeMutableBytes { mac.finalize(into: $0) }
        }
        return tag
    }
}
