/// PBKDF2 with HMAC-SHA-256 (RFC 8018 §5.2), built on `HMACSHA256` because libsodium has none.
///
/// Used only by SASL SCRAM-SHA-256 (RFC 7677), whose SaltedPassword is
/// `Hi(password, salt, i)` = PBKDF2-HMAC-SHA-256 with one 32-byte block.
public enum PBKDF2 {
    /// `DK = T_1 || T_2 || ...`, `T_i = U_1 ^ ... ^ U_c`, `U_1 = PRF(P, S || INT(i))`, `U_j = PRF(P, U_{j-1})`.
    public static func deriveKey(password: some RawBytes, salt: some RawBytes, iterations: Int, outputCount: Int) -> SecretBytes {
        precondition(iterations >= 1 && outputCount >= 1)
        return SecretBytes(count: outputCount) { output in
            password.withUnsafeBytes { password in
                // The password's keyed state is computed once and copied for every U_j.
                var keyed = HMACSHA256(key: password)
                defer { keyed.wipe() }
                var u = [UInt8](repeating: 0, count: 32), t = [UInt8](repeating: 0, count: 32)
                defer {
                    u.withUnsafeMutableBytes { zero($0) }
                    t.withUnsafeMutableBytes { zero($0) }
                }
                var written = 0
                var block: UInt32 = 1
                while written < outputCount {
                    var mac = keyed
                    salt.withUnsafeBytes { mac.update($0) }
                    withUnsafeBytes(of: block.bigEndian) { mac.update($0) }
                    u.withUnsafeMutableBytes { mac.finalize(into: $0) }
                    t = u
                    for _ in 1..<iterations {
                        var next = keyed
                        u.withUnsafeBytes { next.update($0) }
                        u.withUnsafeMutableBytes { next.finalize(into: $0) }
                        for i in 0..<32 { t[i] ^= u[i] }
                    }
                    let take = min(32, outputCount - written)
                    t.withUnsafeBytes { output.baseAddress!.advanced(by: written).copyMemory(from: $0.baseAddress!, byteCount: take) }
                    written += take
                    block += 1
                }
            }
        }
    }
}
