import CatroomCrypto

/// The client half of SCRAM-SHA-256 (RFC 5802 §3, §5; RFC 7677), without channel binding.
public struct SCRAMClient: Sendable {
    public enum SCRAMError: Error, Sendable, Equatable, CustomStringConvertible {
        case malformedServerMessage, nonceMismatch, iterationCountTooLow, serverSignatureMismatch
        /// More than `SCRAM.maximumIterations`: the count the server asked for.
        case iterationCountTooHigh(Int)

        public var description: String {
            switch self {
            case .malformedServerMessage: "the server sent a malformed SCRAM message"
            case .nonceMismatch: "the server's SCRAM nonce does not extend ours"
            case .iterationCountTooLow: "the server asks for fewer than \(SCRAM.iterations) SCRAM iterations (RFC 7677 §4)"
            case .iterationCountTooHigh(let count):
                "the server asks for \(count) SCRAM iterations; this client computes at most \(SCRAM.maximumIterations)"
            case .serverSignatureMismatch: "the server could not prove it knows the password (SCRAM server signature)"
            }
        }
    }

    private let user: String
    private let password: [UInt8]
    private let clientNonce: String
    private var clientFirstBare = ""
    /// Known once `clientFinal` ran; `verify` refuses to succeed before.
    private var serverSignature: [UInt8]?

    /// `nonce` is fixed only by tests; a real exchange takes a fresh one.
    public init(user: String, password: [UInt8], nonce: String = SCRAM.makeNonce()) {
        self.user = user
        self.password = password
        clientNonce = nonce
    }

    /// `n,,n=user,r=nonce` with `,` and `=` in the name escaped (RFC 5802 §5.1).
    public mutating func clientFirst() -> [UInt8] {
        let name = user.replacingOccurrences(of: "=", with: "=3D").replacingOccurrences(of: ",", with: "=2C")
        clientFirstBare = "n=\(name),r=\(clientNonce)"
        return Array(("n,," + clientFirstBare).utf8)
    }

    /// Answers the server-first-message with the client-final-message and its proof.
    public mutating func clientFinal(serverFirst message: [UInt8]) throws(SCRAMError) -> [UInt8] {
        guard let text = String(validating: message, as: UTF8.self),
              let attributes = SCRAM.attributes(text[...]), attributes.count >= 3,
              attributes[0].0 == "r", attributes[1].0 == "s", attributes[2].0 == "i",
              let salt = [UInt8](base64: attributes[1].1), let iterations = Int(attributes[2].1)
        else { throw .malformedServerMessage }
        let nonce = attributes[0].1
        guard nonce.hasPrefix(clientNonce), nonce.count > clientNonce.count else { throw .nonceMismatch }
        guard iterations >= SCRAM.iterations else { throw .iterationCountTooLow }
        // Hi() costs one HMAC per iteration: an unbounded count is a denial of service.
        guard iterations <= SCRAM.maximumIterations else { throw .iterationCountTooHigh(iterations) }
        let withoutProof = "c=biws,r=\(nonce)"  // biws = base64("n,,")
        let authMessage = Array("\(clientFirstBare),\(text),\(withoutProof)".utf8)
        let salted = PBKDF2.deriveKey(password: password, salt: salt, iterations: iterations, outputCount: 32)
        let clientKey = HMACSHA256.authenticate(key: salted, message: Array("Client Key".utf8))
        let signature = HMACSHA256.authenticate(key: SHA256.hash(clientKey), message: authMessage)
        let proof = zip(clientKey, signature).map { $0 ^ $1 }
        let serverKey = HMACSHA256.authenticate(key: salted, message: Array("Server Key".utf8))
        serverSignature = HMACSHA256.authenticate(key: serverKey, message: authMessage)
        return Array("\(withoutProof),p=\(proof.base64)".utf8)
    }

    /// Checks the server-final-message `v=...`, which proves the server knew the credentials.
    public func verify(serverFinal message: [UInt8]) throws(SCRAMError) {
        guard let text = String(validating: message, as: UTF8.self), text.hasPrefix("v="),
              let signature = [UInt8](base64: text.dropFirst(2))
        else { throw .malformedServerMessage }
        guard let serverSignature, constantTimeEqual(signature, serverSignature) else { throw .serverSignatureMismatch }
    }
}
