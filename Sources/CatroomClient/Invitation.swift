import CatroomCrypto
import Foundation

/// The `catroom join` line that brings someone into a room with its invite secret (CR-0008 §4).
public enum Invitation {
    /// The command, arguments quoted for a POSIX shell where needed. The invitee adds `--nick`.
    public static func joinCommand(
        room: String, secret: InviteSecret, server: String, port: Int = 5222, domain: String? = nil, pin: String? = nil,
        insecure: Bool = false, plaintext: Bool = false
    ) -> String {
        var words = ["catroom", "join", room, "--invite", secret.encoded, "--server", server]
        if port != 5222 { words += ["--port", String(port)] }
        if let domain, domain != server { words += ["--domain", domain] }
        if let pin { words += ["--pin", pin] }
        if insecure { words.append("--insecure") }
        if plaintext { words.append("--plaintext") }
        return words.map(quoted).joined(separator: " ")
    }

    /// The same command for the room a client is configured for; nil if it holds no secret.
    public static func joinCommand(for configuration: ClientConfiguration, pin: String?) -> String? {
        guard let secret = configuration.invite else { return nil }
        let pinned: String? = if case .pinned(let fingerprint) = configuration.trust { fingerprint } else { pin }
        return joinCommand(
            room: configuration.room, secret: secret, server: configuration.host, port: configuration.port,
            domain: configuration.domain, pin: pinned, insecure: configuration.trust == .insecure, plaintext: configuration.plaintext)
    }

    /// A hello's `invite` text as proof bytes (CR-0008 §5.4 steps 1 and 2): strict
    /// base64 of exactly 32 bytes, or nil, which makes the sender not invited.
    static func proof(fromText text: String?) -> [UInt8]? {
        guard let proof = text.flatMap({ [UInt8](base64: $0) }), proof.count == InviteSecret.proofCount else { return nil }
        return proof
    }

    private static func quoted(_ word: String) -> String {
        let plain = !word.isEmpty && word.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || "0123456789-_.:@/=+,".unicodeScalars.contains($0)) }
        return plain ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
