import ArgumentParser
import CatroomCrypto

extension Catroom {
    /// Runs the crypto core end to end on this machine: X3DH, the ratchet and a fan-out.
    struct SelfCheck: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "self-check",
            abstract: "Check that the crypto core works on this machine.")

        func run() throws {
            print("libsodium \(sodiumVersion())")
            var members = (0..<3).map { _ in
                var preKeys = PreKeyStore(identity: .generate())
                _ = preKeys.generateOneTimePreKeys(count: 1)
                return SessionStore(preKeys: preKeys)
            }
            let ids = members.map(\.accountID)
            // Member 0 opens a session with each other member and they answer (X3DH, Double Ratchet).
            for peer in 1..<members.count {
                try members[0].initiateSession(with: members[peer].preKeys.bundle(oneTimePreKeyID: 1), peer: ids[peer])
                let hello = try members[0].encrypt(Array("hello".utf8), to: ids[peer])
                _ = try members[peer].decrypt(hello, from: ids[0])
                let reply = try members[peer].encrypt(Array("hi".utf8), to: ids[0])
                _ = try members[0].decrypt(reply, from: ids[peer])
            }
            print("x3dh + double ratchet: ok (\(members.count - 1) sessions)")
            let text = "self-check fan-out"
            let message = try Fanout.seal(
                Array(text.utf8), kind: .room, room: "self-check@rooms.localhost", recipients: Array(ids.dropFirst()),
                store: &members[0])
            for peer in 1..<members.count {
                let opened = try Fanout.open(
                    message.payload, context: message.context, key: try message.entry(for: ids[peer]), store: &members[peer])
                guard String(decoding: opened, as: UTF8.self) == text else { throw ValidationError("fan-out mismatch") }
            }
            print("fan-out to \(members.count - 1) recipients: ok")
        }
    }
}
