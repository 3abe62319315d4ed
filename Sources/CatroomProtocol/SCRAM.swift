import CatroomCrypto

/// SASL SCRAM-SHA-256 (RFC 5802, RFC 7677) without channel binding, server side,
/// plus the stored credentials it checks against. PLAIN checks the same credentials.
public enum SCRAM {
    public static let mechanism = "SCRAM-SHA-256"
    /// RFC 7677 §4: at least 4096.
    public static let iterations = 4096
    /// The most a client computes (CR-0003 §5.3): 24 times RFC 7677's minimum, well above
    /// what servers configure, and a few hundred milliseconds at worst. A server asking
    /// for more (2^31−1 would take hours) is refused before any work.
    public static let maximumIterations = 100_000

    /// A fresh client or server nonce: 18 CSPRNG bytes in base64, so 24 printable
    /// characters with no comma (RFC 5802 §5.1).
    public static func makeNonce() -> String { randomBytes(count: 18).base64 }

    /// What the server keeps instead of a password (RFC 5802 §3): salt, iteration count, StoredKey, ServerKey.
    public struct Credentials: Sendable {
        public let salt: [UInt8]
        public let iterations: Int
        public let storedKey: [UInt8]
        public let serverKey: [UInt8]

        /// SaltedPassword = Hi(password, salt, i); ClientKey = HMAC(SaltedPassword, "Client Key");
        /// StoredKey = H(ClientKey); ServerKey = HMAC(SaltedPassword, "Server Key").
        public init(password: [UInt8], salt: [UInt8], iterations: Int = SCRAM.iterations) {
            let salted = PBKDF2.deriveKey(password: password, salt: salt, iterations: iterations, outputCount: 32)
            self.salt = salt
            self.iterations = iterations
            storedKey = SHA256.hash(HMACSHA256.authenticate(key: salted, message: Array("Client Key".utf8)))
            serverKey = HMACSHA256.authenticate(key: salted, message: Array("Server Key".utf8))
        }

        /// Credentials that match no password: a decoy with only its salt and count meaningful.
        init(salt: [UInt8], iterations: Int) {
            self.salt = salt
            self.iterations = iterations
            storedKey = [UInt8](repeating: 0, count: 32)
            serverKey = storedKey
        }

        /// Checks a plaintext password (SASL PLAIN, RFC 4616) against these credentials.
        public func matches(password: [UInt8]) -> Bool {
            let other = Credentials(password: password, salt: salt, iterations: iterations)
            return constantTimeEqual(other.storedKey, storedKey)
        }
    }

    /// The salt of an unknown user's decoy credentials: HMAC-SHA-256(key, name), first
    /// 16 bytes. `key` is a server secret, so the salt is stable per name yet unguessable.
    public static func decoySalt(key: [UInt8], user: String) -> [UInt8] {
        Array(HMACSHA256.authenticate(key: key, message: Array(user.utf8)).prefix(16))
    }

    /// Decodes a SCRAM `saslname` (RFC 5802 §5.1: `=2C` is `,` and `=3D` is `=`).
    static func decodeName(_ name: Substring) -> String? {
        guard !name.contains(",") else { return nil }
        var result = ""
        var rest = name[...]
        while let equals = rest.firstIndex(of: "=") {
            result += rest[..<equals]
            let code = rest[equals...].prefix(3)
            switch code {
            case "=2C": result += ","
            case "=3D": result += "="
            default: return nil
            }
            rest = rest[rest.index(equals, offsetBy: 3)...]
        }
        return result + rest
    }

    /// Splits `a=1,b=2` into attributes in order.
    static func attributes(_ message: Substring) -> [(Character, Substring)]? {
        var result: [(Character, Substring)] = []
        for part in message.split(separator: ",", omittingEmptySubsequences: false) {
            guard part.count >= 2, let key = part.first, part[part.index(after: part.startIndex)] == "=" else { return nil }
            result.append((key, part.dropFirst(2)))
        }
        return result
    }
}
