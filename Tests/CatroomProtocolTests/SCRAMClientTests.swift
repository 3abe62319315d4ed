import CatroomProtocol
import Testing

/// The client half of SCRAM-SHA-256 (RFC 5802 §3, RFC 7677) and the stored credentials.
struct SCRAMClientTests {
    private func vectorClient() -> SCRAMClient {
        var client = SCRAMClient(user: RFC7677.user, password: RFC7677.password, nonce: RFC7677.clientNonce)
        _ = client.clientFirst()
        return client
    }

    // MARK: - RFC 7677 §3

    @Test func sendsTheRFC7677MessagesByteForByte() throws {
        var client = SCRAMClient(user: RFC7677.user, password: RFC7677.password, nonce: RFC7677.clientNonce)
        #expect(client.clientFirst() == utf8(RFC7677.clientFirst))
        let final = try client.clientFinal(serverFirst: utf8(RFC7677.serverFirst))
        #expect(String(decoding: final, as: UTF8.self) == RFC7677.clientFinal)
        try client.verify(serverFinal: utf8(RFC7677.serverFinal))
    }

    @Test func escapesCommaAndEqualsInTheUserName() {
        var client = SCRAMClient(user: "a=b,c", password: [], nonce: "xyz")
        #expect(String(decoding: client.clientFirst(), as: UTF8.self) == "n,,n=a=3Db=2Cc,r=xyz")
        // "=" is escaped first, so an escape sequence in the name is itself escaped.
        var tricky = SCRAMClient(user: "=2C", password: [], nonce: "xyz")
        #expect(String(decoding: tricky.clientFirst(), as: UTF8.self) == "n,,n==3D2C,r=xyz")
    }

    // MARK: - server-final-message

    @Test func detectsAServerSignatureMismatch() throws {
        var client = vectorClient()
        _ = try client.clientFinal(serverFirst: utf8(RFC7677.serverFirst))
        var signature = [UInt8](base64: "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")!
        signature[0] ^= 0x80
        #expect(throws: SCRAMClient.SCRAMError.serverSignatureMismatch) {
            try client.verify(serverFinal: utf8("v=\(signature.base64)"))
        }
        #expect(throws: SCRAMClient.SCRAMError.serverSignatureMismatch) {
            try client.verify(serverFinal: utf8("v=\(signature.dropLast().map { $0 }.base64)"))
        }
    }

    @Test func detectsAServerThatDoesNotKnowThePassword() throws {
        // A server holding credentials for another password answers with its own, wrong, signature.
        let impostor = SCRAM.Credentials(password: utf8("not pencil"), salt: RFC7677.salt)
        var server = RFC7677.server()
        _ = server.receive(clientFirst: utf8(RFC7677.clientFirst), credentials: { _ in impostor })
        var client = vectorClient()
        let final = try client.clientFinal(serverFirst: utf8(RFC7677.serverFirst))
        // The impostor cannot check the proof, so it fails; a lying server would send some v= anyway.
        #expect(server.receive(clientFinal: final) == .failure(.notAuthorized))
        #expect(throws: SCRAMClient.SCRAMError.serverSignatureMismatch) {
            try client.verify(serverFinal: utf8("v=\(impostor.serverKey.base64)"))
        }
    }

    @Test(arguments: ["", "v=", "e=invalid-proof", "e=other-error", "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4", "V=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", "v=!!!!"])
    func rejectsAMalformedServerFinalMessage(_ message: String) throws {
        var client = vectorClient()
        _ = try client.clientFinal(serverFirst: utf8(RFC7677.serverFirst))
        #expect(throws: SCRAMClient.SCRAMError.self) { try client.verify(serverFinal: utf8(message)) }
    }

    @Test func rejectsAnErrorAttributeAsMalformed() throws {
        var client = vectorClient()
        _ = try client.clientFinal(serverFirst: utf8(RFC7677.serverFirst))
        #expect(throws: SCRAMClient.SCRAMError.malformedServerMessage) { try client.verify(serverFinal: utf8("e=invalid-proof")) }
    }

    @Test func rejectsAServerFinalMessageBeforeTheExchange() {
        let client = vectorClient()
        #expect(throws: SCRAMClient.SCRAMError.serverSignatureMismatch) { try client.verify(serverFinal: utf8(RFC7677.serverFinal)) }
    }

    /// A server that answers `<success/>` before any proof has been exchanged has proved
    /// nothing; an empty `v=` must not pass for the signature not yet computed.
    @Test func rejectsAnEmptySignatureBeforeTheExchange() {
        let client = vectorClient()
        #expect(throws: SCRAMClient.SCRAMError.self) { try client.verify(serverFinal: utf8("v=")) }
    }

    // MARK: - server-first-message

    @Test(arguments: [
        "r=someoneElse%hvYDpWUa2RaTCAfuxFIlj,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",  // no server part
        "r=rOprNGfwEbeRWgbNEk,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",    // a prefix of the client nonce
    ])
    func rejectsANonceThatDoesNotExtendItsOwn(_ message: String) {
        var client = vectorClient()
        #expect(throws: SCRAMClient.SCRAMError.nonceMismatch) { try client.clientFinal(serverFirst: utf8(message)) }
    }

    @Test(arguments: [1, 1000, 4095])
    func rejectsAnIterationCountBelow4096(_ count: Int) {
        var client = vectorClient()
        let message = "r=\(RFC7677.clientNonce)\(RFC7677.serverNonce),s=W22ZaJ0SNY7soEsUEjb6gQ==,i=\(count)"
        #expect(throws: SCRAMClient.SCRAMError.iterationCountTooLow) { try client.clientFinal(serverFirst: utf8(message)) }
    }

    @Test(arguments: [100_001, 1 << 20, Int(Int32.max)])
    func rejectsAnIterationCountAboveTheLimitBeforeComputing(_ count: Int) {
        var client = vectorClient()
        let message = "r=\(RFC7677.clientNonce)\(RFC7677.serverNonce),s=W22ZaJ0SNY7soEsUEjb6gQ==,i=\(count)"
        #expect(throws: SCRAMClient.SCRAMError.iterationCountTooHigh(count)) { try client.clientFinal(serverFirst: utf8(message)) }
        #expect("\(SCRAMClient.SCRAMError.iterationCountTooHigh(count))".contains("\(count)"))
    }

    @Test(arguments: [
        "", "r=rOprNGfwEbeRWgbNEkqOxyz",
        "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==",
        "r=rOprNGfwEbeRWgbNEkqOxyz,i=4096,s=W22ZaJ0SNY7soEsUEjb6gQ==",
        "s=W22ZaJ0SNY7soEsUEjb6gQ==,r=rOprNGfwEbeRWgbNEkqOxyz,i=4096",
        "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ,i=4096",
        "r=rOprNGfwEbeRWgbNEkqOxyz,s=not base64,i=4096",
        "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=lots",
        "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=",
        "m=ext,r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "e=unknown-user",
    ])
    func rejectsAMalformedServerFirstMessage(_ message: String) {
        var client = vectorClient()
        #expect(throws: SCRAMClient.SCRAMError.malformedServerMessage) { try client.clientFinal(serverFirst: utf8(message)) }
    }

    @Test func rejectsAServerFirstMessageThatIsNotUTF8() {
        var client = vectorClient()
        #expect(throws: SCRAMClient.SCRAMError.malformedServerMessage) {
            try client.clientFinal(serverFirst: utf8("r=rOprNGfwEbeRWgbNEkqOx") + [0xFF] + utf8(",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"))
        }
    }

    // MARK: - Credentials

    @Test func credentialsMatchOnlyTheirPassword() {
        let credentials = RFC7677.credentials
        #expect(credentials.salt == RFC7677.salt)
        #expect(credentials.iterations == 4096)
        #expect(credentials.storedKey.count == 32)
        #expect(credentials.serverKey.count == 32)
        #expect(credentials.storedKey != credentials.serverKey)
        #expect(credentials.matches(password: utf8("pencil")))
        #expect(!credentials.matches(password: utf8("Pencil")))
        #expect(!credentials.matches(password: utf8("pencil ")))
        #expect(!credentials.matches(password: []))
    }

    @Test func credentialsDependOnTheSalt() {
        let other = SCRAM.Credentials(password: RFC7677.password, salt: counting(16))
        #expect(other.storedKey != RFC7677.credentials.storedKey)
        #expect(other.matches(password: RFC7677.password))
    }

    @Test func defaultsTo4096Iterations() {
        #expect(SCRAM.iterations == 4096)
        #expect(SCRAM.mechanism == "SCRAM-SHA-256")
        #expect(SCRAM.Credentials(password: [1], salt: [2]).iterations == 4096)
    }
}
