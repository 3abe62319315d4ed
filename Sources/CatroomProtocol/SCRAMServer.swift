import CatroomCrypto

/// The server half of one SCRAM-SHA-256 exchange (RFC 5802 §5), as a value:
/// each client message in, the next server message (or the outcome) out.
public struct SCRAMServer: Sendable {
    public enum Step: Sendable, Equatable {
        /// Send this as `<challenge/>`.
        case challenge([UInt8])
        /// Authenticated as `user`; send `additionalData` in `<success/>`.
        case success(user: String, additionalData: [UInt8])
        case failure(SASLFailure)
    }

    private enum State: Sendable {
        case awaitingClientFirst
        case awaitingClientFinal(user: String, credentials: SCRAM.Credentials?, nonce: String, gs2Header: Substring, authPrefix: String)
        case done
    }

    private var state = State.awaitingClientFirst
    private let serverNonce: String
    /// The salt of made-up credentials for an unknown user, so that a wrong user and a
    /// wrong password look the same (RFC 5802 §9). It must be the same for the same
    /// name every time (a keyed hash of it), or asking twice would tell the two apart.
    private let decoySalt: @Sendable (String) -> [UInt8]

    /// `serverNonce` must be fresh and random (printable, no comma).
    public init(serverNonce: String, decoySalt: @escaping @Sendable (String) -> [UInt8]) {
        self.serverNonce = serverNonce
        self.decoySalt = decoySalt
    }

    private func decoy(for user: String) -> SCRAM.Credentials {
        let salt = decoySalt(user)
        return SCRAM.Credentials(password: salt, salt: salt, iterations: SCRAM.iterations)
    }

    /// client-first-message = gs2-header client-first-message-bare; gs2-header = ("n" / "y") "," [authzid] ",".
    public mutating func receive(clientFirst message: [UInt8], credentials: (String) -> SCRAM.Credentials?) -> Step {
        guard case .awaitingClientFirst = state, let text = String(validating: message, as: UTF8.self) else {
            return fail(.malformedRequest)
        }
        // Channel binding ("p=") is not offered (no -PLUS mechanism), so only "n" and "y" are acceptable.
        let parts = text.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "n" || parts[0] == "y" else { return fail(.malformedRequest) }
        guard parts[1].isEmpty else { return fail(.invalidAuthzid) }
        let bare = parts[2]
        guard let attributes = SCRAM.attributes(bare), attributes.count >= 2,
              attributes[0].0 == "n", attributes[1].0 == "r",
              let user = SCRAM.decodeName(attributes[0].1), !user.isEmpty,
              // RFC 5802 §7: c-nonce = printable = %x21-2B / %x2D-7E.
              !attributes[1].1.isEmpty, attributes[1].1.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != 0x2C })
        else { return fail(.malformedRequest) }
        let nonce = String(attributes[1].1) + serverNonce
        let found = credentials(user)
        // Only the salt and count go out now; the decoy's keys are derived if they are ever needed.
        let used = found ?? SCRAM.Credentials(salt: decoySalt(user), iterations: SCRAM.iterations)
        let serverFirst = "r=\(nonce),s=\(used.salt.base64),i=\(used.iterations)"
        state = .awaitingClientFinal(
            user: user, credentials: found, nonce: nonce, gs2Header: text[..<bare.startIndex],
            authPrefix: String(bare) + "," + serverFirst)
        return .challenge(Array(serverFirst.utf8))
    }

    /// client-final-message = "c=" base64(gs2-header) ",r=" nonce ["," extensions] ",p=" proof.
    public mutating func receive(clientFinal message: [UInt8]) -> Step {
        guard case let .awaitingClientFinal(user, credentials, nonce, gs2Header, authPrefix) = state,
              let text = String(validating: message, as: UTF8.self),
              let proofRange = text.range(of: ",p=", options: .backwards),
              let attributes = SCRAM.attributes(text[...]), attributes.count >= 3,
              attributes[0].0 == "c", attributes[1].0 == "r", let last = attributes.last, last.0 == "p",
              let binding = [UInt8](base64: attributes[0].1), binding == Array(gs2Header.utf8),
              attributes[1].1 == nonce,
              let proof = [UInt8](base64: last.1), proof.count == 32
        else { return fail(.malformedRequest) }
        let authMessage = Array((authPrefix + "," + text[..<proofRange.lowerBound]).utf8)
        let used = credentials ?? decoy(for: user)
        // ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); it must hash to StoredKey.
        let signature = HMACSHA256.authenticate(key: used.storedKey, message: authMessage)
        let clientKey = zip(proof, signature).map { $0 ^ $1 }
        let matches = constantTimeEqual(SHA256.hash(clientKey), used.storedKey)
        guard matches, credentials != nil else { return fail(.notAuthorized) }
        state = .done
        let serverSignature = HMACSHA256.authenticate(key: used.serverKey, message: authMessage)
        return .success(user: user, additionalData: Array("v=\(serverSignature.base64)".utf8))
    }

    private mutating func fail(_ failure: SASLFailure) -> Step {
        state = .done
        return .failure(failure)
    }
}

/// SASL failure conditions (RFC 6120 §6.5).
public enum SASLFailure: String, Sendable, Error {
    case aborted, accountDisabled = "account-disabled", credentialsExpired = "credentials-expired"
    case encryptionRequired = "encryption-required", incorrectEncoding = "incorrect-encoding"
    case invalidAuthzid = "invalid-authzid", invalidMechanism = "invalid-mechanism"
    case malformedRequest = "malformed-request", mechanismTooWeak = "mechanism-too-weak"
    case notAuthorized = "not-authorized", temporaryAuthFailure = "temporary-auth-failure"
}
