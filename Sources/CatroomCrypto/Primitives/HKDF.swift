/// HKDF with SHA-256 (RFC 5869), built on `HMACSHA256` because libsodium 1.0.18 has none.
public enum HKDF {
    /// The longest output RFC 5869 §2.3 allows: 255 blocks.
    public static let maximumOutputCount = 255 * HMACSHA256.byteCount

    /// Extract-then-Expand: `OKM = HKDF-Expand(HKDF-Extract(salt, ikm), info, count)`.
    ///
    /// An empty salt means HashLen zero bytes (§2.2), which HMAC treats identically.
    public static func deriveKey(
        salt: some RawBytes, inputKeyMaterial ikm: some RawBytes, info: some RawBytes, outputCount: Int
    ) -> SecretBytes {
        let prk = extract(salt: salt, inputKeyMaterial: ikm)
        return expand(pseudorandomKey: prk, info: info, outputCount: outputCount)
    }

    /// HKDF-Extract (§2.2): `PRK = HMAC-Hash(salt, IKM)`.
    public static func extract(salt: some RawBytes, inputKeyMaterial ikm: some RawBytes) -> SecretBytes {
        SecretBytes(count: HMACSHA256.byteCount) { prk in
            salt.withUnsafeBytes { salt in
                var mac = HMACSHA256(key: salt)
                ikm.withUnsafeBytes { mac.update($0) }
                mac.finalize(into: prk)
            }
        }
    }

    /// HKDF-Expand (§2.3): `T(i) = HMAC-Hash(PRK, T(i-1) | info | i)`, `OKM` = the first `count` bytes of `T(1) | T(2) | ...`.
    public static func expand(pseudorandomKey prk: SecretBytes, info: some RawBytes, outputCount: Int) -> SecretBytes {
        precondition(outputCount > 0 && outputCount <= maximumOutputCount, "HKDF output length out of range")
        return SecretBytes(count: outputCount) { okm in
            prk.withUnsafeBytes { prk in
                info.withUnsafeBytes { info in
                    // The PRK's keyed state is computed once and copied for each block.
                    var keyed = HMACSHA256(key: prk)
                    defer { keyed.wipe() }
                    var block = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
                    defer { withUnsafeMutableBytes(of: &block) { zero($0) } }
                    var written = 0
                    var counter: UInt8 = 1
                    while written < outputCount {
                        var mac = keyed
                        withUnsafeMutableBytes(of: &block) { previous in
                            if counter > 1 { mac.update(UnsafeRawBufferPointer(previous)) }
                            mac.update(info)
                            mac.update(byte: counter)
                            mac.finalize(into: previous)
                            let take = min(HMACSHA256.byteCount, outputCount - written)
                            okm.baseAddress!.advanced(by: written).copyMemory(from: previous.baseAddress!, byteCount: take)
                            written += take
                        }
                        counter &+= 1
                    }
                }
            }
        }
    }
}
