import CatroomCrypto
import CatroomProtocol
import Foundation
import Testing

/// The server half of SCRAM-SHA-256 (RFC 5802 §5, RFC 7677).
struct SCRAMServerTests {
    // MARK: - RFC 7677 §3

    @Test func answersTheRFC7677ExchangeByteForByte() {
        var server = RFC7677.server()
        let challenge = server.receive(clientFirst: utf8(RFC7677.clientFirst), credentials: RFC7677.lookup)
        #expect(challenge == .challenge(utf8(RFC7677.serverFirst)))
        let outcome = server.receive(clientFinal: utf8(RFC7677.clientFinal))
        #expect(outcome == .success(user: "user", additionalData: utf8(RFC7677.serverFinal)))
    }

    @Test func looksUpTheDecodedUserName() {
        var server = RFC7677.server()
        var asked: [String] = []
        _ = server.receive(clientFirst: utf8(RFC7677.clientFirst)) { name in
            asked.append(name)
            return RFC7677.credentials
        }
        #expect(asked == ["user"])
    }

    @Test func authenticatesSCRAMClient() throws {
        let salt = counting(16, from: 0x40)
        let credentials = SCRAM.Credentials(password: utf8("hunter2"), salt: salt)
        var client = SCRAMClient(user: "alice", password: utf8("hunter2"), nonce: "client-nonce-1")
        var server = SCRAMServer(serverNonce: "server-nonce-1", decoySalt: { _ in counting(16) })
        guard case .challenge(let serverFirst) = server.receive(clientFirst: client.clientFirst(), credentials: { $0 == "alice" ? credentials : nil })
        else { Issue.record("expected a challenge"); return }
        #expect(String(decoding: serverFirst, as: UTF8.self) == "r=client-nonce-1server-nonce-1,s=\(salt.base64),i=4096")
        let step = server.receive(clientFinal: try client.clientFinal(serverFirst: serverFirst))
        guard case .success(let user, let additionalData) = step else { Issue.record("expected success, got \(step)"); return }
        #expect(user == "alice")
        try client.verify(serverFinal: additionalData)
    }

    // MARK: - Wrong password, unknown user

    @Test func rejectsAWrongPassword() throws {
        var client = SCRAMClient(user: "user", password: utf8("pencil!"), nonce: RFC7677.clientNonce)
        var server = RFC7677.server()
        let challenge = server.receive(clientFirst: client.clientFirst(), credentials: RFC7677.lookup)
        #expect(challenge == .challenge(utf8(RFC7677.serverFirst)))
        let final = try client.clientFinal(serverFirst: utf8(RFC7677.serverFirst))
        #expect(server.receive(clientFinal: final) == .failure(.notAuthorized))
    }

    /// RFC 5802 §9: an unknown user gets a challenge like any other, with the decoy
    /// salt and the usual count, and fails only at the end, as a wrong password does.
    @Test func challengesAnUnknownUserWithTheDecoyAndThenFails() throws {
        let decoySalt = counting(16, from: 0xA0)
        var server = RFC7677.server(decoySalt: decoySalt)
        var client = SCRAMClient(user: "mallory", password: utf8("guess"), nonce: RFC7677.clientNonce)
        let challenge = server.receive(clientFirst: client.clientFirst(), credentials: RFC7677.lookup)
        let expected = "r=\(RFC7677.clientNonce)\(RFC7677.serverNonce),s=\(decoySalt.base64),i=4096"
        #expect(challenge == .challenge(utf8(expected)))
        let final = try client.clientFinal(serverFirst: utf8(expected))
        #expect(server.receive(clientFinal: final) == .failure(.notAuthorized))
    }

    @Test func unknownUserFailsEvenWithThePasswordTheDecoyIsMadeFrom() throws {
        // The decoy credentials are derived with the decoy salt as password; that must not log anyone in.
        let decoySalt = counting(16, from: 0xA0)
        var server = RFC7677.server(decoySalt: decoySalt)
        var client = SCRAMClient(user: "mallory", password: decoySalt, nonce: RFC7677.clientNonce)
        guard case .challenge(let serverFirst) = server.receive(clientFirst: client.clientFirst(), credentials: RFC7677.lookup)
        else { Issue.record("expected a challenge"); return }
        #expect(server.receive(clientFinal: try client.clientFinal(serverFirst: serverFirst)) == .failure(.notAuthorized))
    }

    /// A known user's salt is the same on every attempt, so an unknown user's must be too:
    /// otherwise asking twice tells who exists. Built as the server does: a fresh exchange
    /// each time, decoy salts keyed by one server secret.
    @Test func unknownUserGetsTheSameSaltOnEveryAttempt() {
        let key = randomBytes(count: 32)
        func challenge(for user: String) -> SCRAMServer.Step {
            var server = SCRAMServer(serverNonce: RFC7677.serverNonce, decoySalt: { SCRAM.decoySalt(key: key, user: $0) })
            return server.receive(clientFirst: utf8("n,,n=\(user),r=\(RFC7677.clientNonce)"), credentials: RFC7677.lookup)
        }
        #expect(challenge(for: "user") == challenge(for: "user"))
        #expect(challenge(for: "mallory") == challenge(for: "mallory"))
        #expect(challenge(for: "mallory") != challenge(for: "eve"))
    }

    @Test func unknownAndKnownUsersGetChallengesOfTheSameShape() {
        var known = RFC7677.server(decoySalt: counting(16))
        var unknown = RFC7677.server(decoySalt: counting(16))
        let first = known.receive(clientFirst: utf8("n,,n=user,r=abc"), credentials: RFC7677.lookup)
        let second = unknown.receive(clientFirst: utf8("n,,n=nobody,r=abc"), credentials: RFC7677.lookup)
        guard case .challenge(let a) = first, case .challenge(let b) = second else {
            Issue.record("expected two challenges, got \(first) and \(second)")
            return
        }
        let shape = { (bytes: [UInt8]) in String(decoding: bytes, as: UTF8.self).split(separator: ",").map { $0.prefix(2) } }
        #expect(shape(a) == ["r=", "s=", "i="])
        #expect(shape(b) == shape(a))
        #expect(a.count == b.count)
    }

    // MARK: - client-first-message

    @Test(arguments: ["p=tls-unique,,n=user,r=abc", "p=tls-exporter,,n=user,r=abc"])
    func rejectsChannelBindingItDoesNotOffer(_ message: String) {
        var server = RFC7677.server()
        #expect(server.receive(clientFirst: utf8(message), credentials: RFC7677.lookup) == .failure(.malformedRequest))
    }

    @Test func acceptsTheYFlagAndBindsItsHeader() {
        // "y": the client supports channel binding but thinks the server does not; fine without -PLUS.
        var server = RFC7677.server()
        let clientFirstBare = "n=user,r=\(RFC7677.clientNonce)"
        #expect(server.receive(clientFirst: utf8("y,," + clientFirstBare), credentials: RFC7677.lookup) == .challenge(utf8(RFC7677.serverFirst)))
        let withoutProof = "c=\(utf8("y,,").base64),r=\(RFC7677.clientNonce)\(RFC7677.serverNonce)"
        #expect(withoutProof.hasPrefix("c=eSws,"))
        let (proof, signature) = scramProof(
            password: RFC7677.password, salt: RFC7677.salt, iterations: 4096,
            authMessage: "\(clientFirstBare),\(RFC7677.serverFirst),\(withoutProof)")
        let step = server.receive(clientFinal: utf8("\(withoutProof),p=\(proof.base64)"))
        #expect(step == .success(user: "user", additionalData: utf8("v=\(signature.base64)")))
    }

    @Test func rejectsABindingThatDoesNotRepeatTheYHeader() {
        var server = RFC7677.server()
        _ = server.receive(clientFirst: utf8("y,,n=user,r=\(RFC7677.clientNonce)"), credentials: RFC7677.lookup)
        // The vector's c=biws is base64("n,,"), not base64("y,,").
        #expect(server.receive(clientFinal: utf8(RFC7677.clientFinal)) == .failure(.malformedRequest))
    }

    @Test(arguments: ["n,a=admin,n=user,r=abc", "n,a=user,n=user,r=abc", "y,a=x,n=user,r=abc"])
    func rejectsAnAuthorizationIdentity(_ message: String) {
        var server = RFC7677.server()
        #expect(server.receive(clientFirst: utf8(message), credentials: RFC7677.lookup) == .failure(.invalidAuthzid))
    }

    @Test(arguments: [
        "", "n", "n,", "n,,", "x,,n=user,r=abc", "N,,n=user,r=abc",
        "n,,n=user", "n,,r=abc", "n,,r=abc,n=user", "n,,n=,r=abc", "n,,n=user,r=",
        "n,,m=ext,n=user,r=abc",  // RFC 5802 §5.1: a mandatory extension the server does not know fails
        "n,,n=user,,r=abc", "n,,user,r=abc", "n,,n=us,er,r=abc",
        "n,,n=a=2Xb,r=abc", "n,,n=a=,r=abc", "n,,n=a=2,r=abc", "n,,n==3d,r=abc",
    ])
    func rejectsAMalformedClientFirstMessage(_ message: String) {
        var server = RFC7677.server()
        #expect(server.receive(clientFirst: utf8(message), credentials: RFC7677.lookup) == .failure(.malformedRequest))
    }

    @Test func rejectsAClientFirstMessageThatIsNotUTF8() {
        var server = RFC7677.server()
        #expect(server.receive(clientFirst: utf8("n,,n=user,r=") + [0xC3, 0x28], credentials: RFC7677.lookup) == .failure(.malformedRequest))
    }

    /// RFC 5802 §7: `c-nonce = printable`, and `printable = %x21-2B / %x2D-7E`.
    @Test(arguments: ["ab c", "ab\u{1}c", "ab\u{7F}c", "ab\tc"])
    func rejectsAClientNonceOutsidePrintableASCII(_ nonce: String) {
        var server = RFC7677.server()
        #expect(server.receive(clientFirst: utf8("n,,n=user,r=\(nonce)"), credentials: RFC7677.lookup) == .failure(.malformedRequest))
    }

    @Test func rejectsANonASCIIClientNonce() {
        var server = RFC7677.server()
        #expect(server.receive(clientFirst: utf8("n,,n=user,r=nönce"), credentials: RFC7677.lookup) == .failure(.malformedRequest))
    }

    @Test func acceptsExtensionsAfterTheNonce() {
        var server = RFC7677.server()
        let step = server.receive(clientFirst: utf8("n,,n=user,r=\(RFC7677.clientNonce),x=1"), credentials: RFC7677.lookup)
        #expect(step == .challenge(utf8(RFC7677.serverFirst)))
    }

    // MARK: - Username escaping (RFC 5802 §5.1)

    @Test func decodesEscapedCommaAndEquals() throws {
        let name = "a,b=c=,"
        let credentials = SCRAM.Credentials(password: utf8("pw"), salt: counting(16))
        var client = SCRAMClient(user: name, password: utf8("pw"), nonce: "n1")
        let first = client.clientFirst()
        #expect(String(decoding: first, as: UTF8.self) == "n,,n=a=2Cb=3Dc=3D=2C,r=n1")
        var server = SCRAMServer(serverNonce: "s1", decoySalt: { _ in counting(16, from: 9) })
        var asked: [String] = []
        let challenge = server.receive(clientFirst: first) { user in
            asked.append(user)
            return user == name ? credentials : nil
        }
        #expect(asked == [name])
        guard case .challenge(let serverFirst) = challenge else { Issue.record("expected a challenge"); return }
        let step = server.receive(clientFinal: try client.clientFinal(serverFirst: serverFirst))
        guard case .success(let user, let additionalData) = step else { Issue.record("expected success, got \(step)"); return }
        #expect(user == name)
        try client.verify(serverFinal: additionalData)
    }

    // MARK: - client-final-message

    @Test func rejectsAnotherNonce() {
        var server = RFC7677.serverAwaitingClientFinal()
        let tampered = RFC7677.clientFinal.replacingOccurrences(of: "hNlF$k0", with: "hNlF$k1")
        #expect(server.receive(clientFinal: utf8(tampered)) == .failure(.malformedRequest))
    }

    @Test func rejectsTheClientNonceAlone() {
        var server = RFC7677.serverAwaitingClientFinal()
        let tampered = RFC7677.clientFinal.replacingOccurrences(of: RFC7677.serverNonce, with: "")
        #expect(server.receive(clientFinal: utf8(tampered)) == .failure(.malformedRequest))
    }

    @Test(arguments: ["c=eSws", "c=", "c=bi ws", "c=cCx0bHMtdW5pcXVlLCw="])
    func rejectsAnotherChannelBinding(_ binding: String) {
        var server = RFC7677.serverAwaitingClientFinal()
        let tampered = RFC7677.clientFinal.replacingOccurrences(of: "c=biws", with: binding)
        #expect(server.receive(clientFinal: utf8(tampered)) == .failure(.malformedRequest))
    }

    @Test(arguments: [
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ",      // padding missing
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndV==",     // 31 bytes
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=AA==", // trailing garbage
        "p=dHzbZapWIk4jUhN*Ute9ytag9zjfMHgsqmmiz7AndVQ=",     // not in the alphabet
        "p=",
    ])
    func rejectsAMalformedProof(_ proof: String) {
        var server = RFC7677.serverAwaitingClientFinal()
        let tampered = RFC7677.clientFinal.replacingOccurrences(of: "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", with: proof)
        #expect(server.receive(clientFinal: utf8(tampered)) == .failure(.malformedRequest))
    }

    @Test func rejectsAProofWithOneBitFlipped() {
        var server = RFC7677.serverAwaitingClientFinal()
        var proof = [UInt8](base64: "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")!
        proof[31] ^= 1
        let tampered = "c=biws,r=\(RFC7677.clientNonce)\(RFC7677.serverNonce),p=\(proof.base64)"
        #expect(server.receive(clientFinal: utf8(tampered)) == .failure(.notAuthorized))
    }

    @Test(arguments: [
        "", "c=biws", "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,c=biws,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=,x=1",
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    ])
    func rejectsAMalformedClientFinalMessage(_ message: String) {
        var server = RFC7677.serverAwaitingClientFinal()
        #expect(server.receive(clientFinal: utf8(message)) == .failure(.malformedRequest))
    }

    @Test func coversExtensionsInTheAuthMessage() {
        let nonce = RFC7677.clientNonce + RFC7677.serverNonce
        let withoutProof = "c=biws,r=\(nonce),x=extra"
        let authMessage = "n=user,r=\(RFC7677.clientNonce),\(RFC7677.serverFirst),\(withoutProof)"
        let (proof, signature) = scramProof(password: RFC7677.password, salt: RFC7677.salt, iterations: 4096, authMessage: authMessage)

        var server = RFC7677.serverAwaitingClientFinal()
        #expect(server.receive(clientFinal: utf8("\(withoutProof),p=\(proof.base64)")) == .success(
            user: "user", additionalData: utf8("v=\(signature.base64)")))

        // The same proof with the extension changed no longer matches.
        var other = RFC7677.serverAwaitingClientFinal()
        #expect(other.receive(clientFinal: utf8("c=biws,r=\(nonce),x=other,p=\(proof.base64)")) == .failure(.notAuthorized))
    }

    // MARK: - Order

    @Test func rejectsAClientFinalMessageFirst() {
        var server = RFC7677.server()
        #expect(server.receive(clientFinal: utf8(RFC7677.clientFinal)) == .failure(.malformedRequest))
        // The exchange is over: even the right first message now fails.
        #expect(server.receive(clientFirst: utf8(RFC7677.clientFirst), credentials: RFC7677.lookup) == .failure(.malformedRequest))
    }

    @Test func rejectsASecondClientFirstMessage() {
        var server = RFC7677.serverAwaitingClientFinal()
        #expect(server.receive(clientFirst: utf8(RFC7677.clientFirst), credentials: RFC7677.lookup) == .failure(.malformedRequest))
        #expect(server.receive(clientFinal: utf8(RFC7677.clientFinal)) == .failure(.malformedRequest))
    }

    @Test func acceptsNothingAfterSuccess() {
        var server = RFC7677.serverAwaitingClientFinal()
        #expect(server.receive(clientFinal: utf8(RFC7677.clientFinal)) == .success(user: "user", additionalData: utf8(RFC7677.serverFinal)))
        #expect(server.receive(clientFinal: utf8(RFC7677.clientFinal)) == .failure(.malformedRequest))
        #expect(server.receive(clientFirst: utf8(RFC7677.clientFirst), credentials: RFC7677.lookup) == .failure(.malformedRequest))
    }

    @Test func acceptsNothingAfterFailure() {
        var server = RFC7677.server()
        #expect(server.receive(clientFirst: utf8("n,a=x,n=user,r=abc"), credentials: RFC7677.lookup) == .failure(.invalidAuthzid))
        #expect(server.receive(clientFirst: utf8(RFC7677.clientFirst), credentials: RFC7677.lookup) == .failure(.malformedRequest))

        var wrong = RFC7677.serverAwaitingClientFinal()
        let tampered = RFC7677.clientFinal.replacingOccurrences(of: "dHzb", with: "dHzc")
        #expect(wrong.receive(clientFinal: utf8(tampered)) == .failure(.notAuthorized))
        // A retry with the right proof on the same exchange is refused.
        #expect(wrong.receive(clientFinal: utf8(RFC7677.clientFinal)) == .failure(.malformedRequest))
    }

    // MARK: - Failure names (RFC 6120 §6.5)

    @Test func failuresUseRFC6120ConditionNames() {
        #expect(SASLFailure.notAuthorized.rawValue == "not-authorized")
        #expect(SASLFailure.malformedRequest.rawValue == "malformed-request")
        #expect(SASLFailure.invalidAuthzid.rawValue == "invalid-authzid")
        #expect(SASLFailure.temporaryAuthFailure.rawValue == "temporary-auth-failure")
        #expect(SASLFailure.accountDisabled.rawValue == "account-disabled")
        #expect(SASLFailure.aborted.rawValue == "aborted")
    }
}
