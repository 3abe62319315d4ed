import CatroomProtocol
import Foundation
import NIOSSL

/// The server certificate check (SSH known_hosts style): SHA-256 of the leaf
/// certificate, compared with an explicit pin or with what was seen first.
struct CertificatePin: Sendable {
    let host: String
    let port: Int
    let trust: ClientConfiguration.Trust

    struct Mismatch: Error, CustomStringConvertible {
        let host: String
        let expected: String
        let presented: String
        let source: String
        var description: String {
            """
            the certificate of \(host) has changed!
              expected (\(source)): \(expected)
              presented:           \(presented)
            Someone may be intercepting the connection. If the operator really replaced the
            certificate, remove the line for \(host) from \(source) or pass --pin with the new fingerprint.
            """
        }
    }

    /// A fingerprint as the user may type it: case and colons do not matter.
    static func normalized(_ text: String) -> String {
        let hex = text.uppercased().filter { $0.isHexDigit }
        return stride(from: 0, to: hex.count, by: 2).map { offset -> String in
            let start = hex.index(hex.startIndex, offsetBy: offset)
            return String(hex[start..<hex.index(start, offsetBy: min(2, hex.count - offset))])
        }.joined(separator: ":")
    }

    var entry: String { "[\(host)]:\(port)" }

    /// Checks the presented leaf certificate.
    func check(_ certificate: NIOSSLCertificate) throws -> TrustOutcome {
        let presented = certificateFingerprint(ofDER: try certificate.toDERBytes())
        switch trust {
        case .insecure:
            return .unchecked(fingerprint: presented)
        case .pinned(let pin):
            guard Self.normalized(pin) == presented else {
                throw Mismatch(host: entry, expected: Self.normalized(pin), presented: presented, source: "--pin")
            }
            return .matched(fingerprint: presented)
        case .firstUse(let path):
            if let known = try Self.knownFingerprint(for: entry, in: path) {
                guard known == presented else { throw Mismatch(host: entry, expected: known, presented: presented, source: path) }
                return .matched(fingerprint: presented)
            }
            try Self.record(presented, for: entry, in: path)
            return .recorded(fingerprint: presented)
        }
    }

    /// `[host]:port SHA256:AA:BB:...` lines, as known_hosts keeps keys.
    static func knownFingerprint(for entry: String, in path: String) throws -> String? {
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
}
