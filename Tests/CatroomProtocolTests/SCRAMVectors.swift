import CatroomCrypto
import CatroomProtocol

/// The SCRAM-SHA-256 exchange of RFC 7677 §3, byte for byte.
enum RFC7677 {
    static let user = "user"
    static let password = utf8("pencil")
    static let clientNonce = "rOprNGfwEbeRWgbNEkqO"
    static let serverNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
    static let salt = [UInt8](base64: "W22ZaJ0SNY7soEsUEjb6gQ==")!
    static let iterations = 4096

    static let clientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
    static let serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    static let clientFinal = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    static let serverFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

    /// What the server stores for `user` (PBKDF2 runs once for the whole suite).
    static let credentials = SCRAM.Credentials(password: password, salt: salt, iterations: iterations)

    /// A server that knows only `user`, with the vector's server nonce.
    static func server(decoySalt: [UInt8] = counting(16)) -> SCRAMServer {
        SCRAMServer(serverNonce: serverNonce, decoySalt: { _ in decoySalt })
    }

    static func lookup(_ name: String) -> SCRAM.Credentials? {
        name == user ? credentials : nil
    }

    /// The server after the vector's client-first-message.
    static func serverAwaitingClientFinal() -> SCRAMServer {
        var server = server()
        _ = server.receive(clientFirst: utf8(clientFirst), credentials: lookup)
        return server
    }
}

/// RFC 5802 §3 computed independently of `SCRAMClient`, for client messages the client
/// would never send (a `y` flag, extensions).
///
///     ClientProof = ClientKey XOR HMAC(H(ClientKey), AuthMessage)
///     ServerSignature = HMAC(HMAC(SaltedPassword, "Server Key"), AuthMessage)
func scramProof(password: [UInt8], salt: [UInt8], iterations: Int, authMessage: String) -> (proof: [UInt8], serverSignature: [UInt8]) {
    let salted = PBKDF2.deriveKey(password: password, salt: salt, iterations: iterations, outputCount: 32)
    let clientKey = HMACSHA256.authenticate(key: salted, message: utf8("Client Key"))
    let clientSignature = HMACSHA256.authenticate(key: SHA256.hash(clientKey), message: utf8(authMessage))
    let serverKey = HMACSHA256.authenticate(key: salted, message: utf8("Server Key"))
    return (zip(clientKey, clientSignature).map { $0 ^ $1 }, HMACSHA256.authenticate(key: serverKey, message: utf8(authMessage)))
}
