@testable import CatroomClient
import Foundation
import Testing

/// The known_hosts file and the `--pin` format (docs/user-guide.md, "Joining").
@Suite struct CertificatePinTests {
    static let fingerprint = Array(repeating: "AB", count: 32).joined(separator: ":")

    @Test(arguments: [fingerprint, fingerprint.lowercased(), fingerprint.replacingOccurrences(of: ":", with: ""), "SHA256:" + fingerprint])
    func acceptsFingerprintsAsTyped(typed: String) {
        #expect(CertificatePin.normalized(typed) == Self.fingerprint)
    }

    @Test(arguments: ["", "AB:CD", String(repeating: "AB", count: 33), String(repeating: "ZZ", count: 32), Self.fingerprint + " ", "AB-" + Self.fingerprint])
    func refusesWhatIsNotAFingerprint(typed: String) {
        #expect(CertificatePin.normalized(typed) == nil)
    }

    @Test func replacingARecordKeepsTheOtherLines() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("known_hosts-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let old = Array(repeating: "CD", count: 32).joined(separator: ":")
        try Data("[other]:5222 SHA256:\(old)\n[host]:5222 SHA256:\(old)\n[host]:5223 SHA256:\(old)\n".utf8).write(to: URL(fileURLWithPath: path))
        try CertificatePin.replace(Self.fingerprint, for: CertificatePin.entry(host: "host", port: 5222), in: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8)
            == "[other]:5222 SHA256:\(old)\n[host]:5223 SHA256:\(old)\n[host]:5222 SHA256:\(Self.fingerprint)\n")
        #expect(CertificatePin.recorded(host: "host", port: 5222, in: path) == Self.fingerprint)
    }
}
