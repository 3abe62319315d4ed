import CatroomProtocol
import Foundation
import NIOSSL

/// The server certificate check (SSH known_hosts style): SHA-256 of the leaf
/// certificate, compared with an explicit pin or with what was seen first.
public struct CertificatePin: Sendable {
    let host: String
    let port: Int
    let trust: ClientConfiguration.Trust
    /// With `.pinned`: the known_hosts file whose line for this host a matching
    /// certificate replaces (the user confirmed it).
    var recordingPinIn: String? = nil

    struct Mismatch: Error, CustomStringConvertible {
        let host: String
        let expected: String
        let presented: String
        /// The known_hosts file the expected fingerprint came from; nil for `--pin`.
        let knownHosts: String?
        var description: String {
            let advice = if let knownHosts {
                "remove the line `\(host) SHA256:\(expected)` from \(knownHosts), or pass --pin with the new fingerprint"
            } else {
                "pass --pin with the new fingerprint"
            }
            return """
                the certificate of \(host) is not the one trusted: someone may be intercepting the connection (nothing was sent); check and re-pin as below
                  expected (\(knownHosts ?? "--pin")): \(expected)
                  presented: \(presented)
                  to check: `catroom serve` prints its fingerprint when it starts; or ask the server's operator
                  if the operator really replaced the certificate: \(advice)
                """
        }
    }

    /// A fingerprint as the user may type it (case and colons do not matter) in the
    /// form `catroom serve` prints, `AB:CD:...`; nil unless it is 32 bytes in hex.
    public static func normalized(_ text: String) -> String? {
        let typed = text.hasPrefix("SHA256:") ? text.dropFirst(7) : Substring(text)
        guard typed.allSatisfy({ $0.isHexDigit || $0 == ":" }) else { return nil }
        let hex = Array(typed.uppercased().filter(\.isHexDigit))
        guard hex.count == 64 else { return nil }
        return stride(from: 0, to: hex.count, by: 2).map { String(hex[$0..<$0 + 2]) }.joined(separator: ":")
    }

    /// What `--pin` must look like, for the error that refuses it.
    public static let expectedForm = "the server certificate's SHA-256 fingerprint: 32 bytes in hex as `catroom serve` prints it (AB:CD:...:EF; colons and case do not matter)"

    /// The known_hosts line's name for a server.
    public static func entry(host: String, port: Int) -> String { "[\(host)]:\(port)" }

    var entry: String { Self.entry(host: host, port: port) }

    /// Checks the presented leaf certificate.
    func check(_ certificate: NIOSSLCertificate) throws -> TrustOutcome {
        let presented = certificateFingerprint(ofDER: try certificate.toDERBytes())
        switch trust {
        case .insecure:
            return .unchecked(fingerprint: presented)
        case .pinned(let pin):
            let expected = Self.normalized(pin) ?? pin
            guard expected == presented else { throw Mismatch(host: entry, expected: expected, presented: presented, knownHosts: nil) }
            if let path = recordingPinIn { try Self.replace(presented, for: entry, in: path) }
            return .matched(fingerprint: presented)
        case .firstUse(let path):
            if let known = Self.knownFingerprint(for: entry, in: path) {
                guard known == presented else { throw Mismatch(host: entry, expected: known, presented: presented, knownHosts: path) }
                return .matched(fingerprint: presented)
            }
            try Self.record(presented, for: entry, in: path)
            return .recorded(fingerprint: presented)
        }
    }

    /// The fingerprint `path` records for a server, if any.
    public static func recorded(host: String, port: Int, in path: String) -> String? {
        knownFingerprint(for: entry(host: host, port: port), in: path)
    }

    /// `[host]:port SHA256:AA:BB:...` lines, as known_hosts keeps keys.
    static func knownFingerprint(for entry: String, in path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, fields[0] == entry, fields[1].hasPrefix("SHA256:") {
                return String(fields[1].dropFirst(7))
            }
        }
        return nil
    }

    static func record(_ fingerprint: String, for entry: String, in path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let line = "\(entry) SHA256:\(fingerprint)\n"
        if let handle = FileHandle(forWritingAtPath: path) {
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(line.utf8))
        } else {
            try Data(line.utf8).write(to: url)
        }
    }

    /// Records `fingerprint` for `entry`, dropping the lines that recorded another.
    static func replace(_ fingerprint: String, for entry: String, in path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return try record(fingerprint, for: entry, in: path) }
        let kept = text.split(separator: "\n").filter { $0.split(separator: " ").first.map(String.init) != entry }
        let lines = kept.map { "\($0)\n" }.joined() + "\(entry) SHA256:\(fingerprint)\n"
        try Data(lines.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
