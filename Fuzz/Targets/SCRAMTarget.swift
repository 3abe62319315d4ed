import CatroomCrypto
import CatroomProtocol

// SCRAM-SHA-256 (Sources/CatroomProtocol/SCRAM*.swift). Input: a mode byte, then
// NUL-separated messages. Modes: the server facing two hostile client messages; the
// server facing a genuine client-first and a hostile client-final; the client facing a
// hostile server-first and server-final. Invariants:
// - the server authenticates nobody without the password: never an unknown user, and
//   never a known one from a message the genuine client did not write;
// - after a failure the server fails every later message;
// - the client answers only a server nonce that extends its own, with a well-formed
//   client-final, and never accepts a server signature it could not have received.

extension FuzzTarget {
    static let scram = FuzzTarget(name: "scram", run: { bytes in
        var input = FuzzInput(bytes)
        let mode = input.byte() % 3
        let messages = input.remaining().split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false).map(Array.init)
        let first = messages.first ?? []
        let second = messages.count > 1 ? messages[1] : []
        switch mode {
        case 0: SCRAMCheck.server(clientFirst: first, clientFinal: second)
        case 1: SCRAMCheck.server(clientFirst: SCRAMCheck.genuineClientFirst, clientFinal: first)
        default: SCRAMCheck.client(serverFirst: first, serverFinal: second)
        }
    }, seeds: { SCRAMCheck.seeds() })
}

enum SCRAMCheck {
    static let user = "juliet"
    static let password = Array("r0m30myr0m30".utf8)
    static let clientNonce = "rOprNGfwEbeRWgbNEkqO"
    static let serverNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
    static let credentials = SCRAM.Credentials(password: password, salt: Array("fuzz salt".utf8))

    static var genuineClientFirst: [UInt8] {
        var client = SCRAMClient(user: user, password: password, nonce: clientNonce)
        return client.clientFirst()
    }

    static func makeServer() -> SCRAMServer {
        SCRAMServer(serverNonce: serverNonce) { SCRAM.decoySalt(key: Array("decoy key".utf8), user: $0) }
    }

    static func server(clientFirst: [UInt8], clientFinal: [UInt8]) {
        var server = makeServer()
        let challenge = server.receive(clientFirst: clientFirst) { $0 == user ? credentials : nil }
        guard case .challenge(let serverFirst) = challenge else {
            invariant(server.receive(clientFinal: clientFinal).isFailure, "the server went on after failing")
            return
        }
        let outcome = server.receive(clientFinal: clientFinal)
        if case .success(let who, _) = outcome {
            // Only the genuine client, answering this very challenge, can succeed.
            var genuine = SCRAMClient(user: user, password: password, nonce: clientNonce)
            _ = genuine.clientFirst()
            invariant(
                who == user && clientFirst == genuineClientFirst && (try? genuine.clientFinal(serverFirst: serverFirst)) == clientFinal,
                "the server authenticated \(who) without the password")
        }
        if outcome.isFailure {
            invariant(server.receive(clientFinal: clientFinal).isFailure, "the server went on after failing")
        }
    }

    static func client(serverFirst: [UInt8], serverFinal: [UInt8]) {
        var client = SCRAMClient(user: user, password: password, nonce: clientNonce)
        invariant((try? client.verify(serverFinal: serverFinal)) == nil, "the client accepted a server-final before sending its proof")
        _ = client.clientFirst()
        guard let clientFinal = try? client.clientFinal(serverFirst: serverFirst) else { return }
        let text = String(decoding: clientFinal, as: UTF8.self)
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        invariant(
            parts.count == 3 && parts[0] == "c=biws" && parts[1].hasPrefix("r=" + clientNonce) && parts[1].count > clientNonce.count + 2
                && parts[2].hasPrefix("p=") && [UInt8](base64: parts[2].dropFirst(2))?.count == 32,
            "a malformed client-final: \(text)")
        invariant((try? client.verify(serverFinal: serverFinal)) == nil, "the client accepted a forged server signature")
    }
}

extension SCRAMCheck {
    /// A genuine exchange, cut into each mode's messages.
    static func seeds() -> [String: [UInt8]] {
        var client = SCRAMClient(user: user, password: password, nonce: clientNonce)
        let clientFirst = client.clientFirst()
        var server = makeServer()
        guard case .challenge(let serverFirst) = server.receive(clientFirst: clientFirst, credentials: { _ in credentials }),
              let clientFinal = try? client.clientFinal(serverFirst: serverFirst),
              case .success(_, let serverFinal) = server.receive(clientFinal: clientFinal)
        else { fatalError("the genuine SCRAM exchange failed") }
        return [
            "server-hostile-client": [0] + clientFirst + [0] + clientFinal,
            "server-genuine-client-first": [1] + clientFinal,
            "client-hostile-server": [2] + serverFirst + [0] + Array(serverFinal.prefix(8)),
        ]
    }
}

extension SCRAMServer.Step {
    var isFailure: Bool {
        if case .failure = self { true } else { false }
    }
}
