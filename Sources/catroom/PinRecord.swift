import ArgumentParser
import CatroomClient
import Foundation

/// A `--pin` that known_hosts does not record for the server yet: recorded only when
/// the user says so, never silently (a mistyped or planted pin must not stick).
enum PinRecord {
    /// Refuses a `--pin` that is not a fingerprint, showing what one looks like.
    static func validate(_ pin: String?) throws(ValidationError) {
        if let pin, CertificatePin.normalized(pin) == nil {
            throw ValidationError("--pin \(pin.debugDescription) is not a fingerprint: give \(CertificatePin.expectedForm)")
        }
    }

    /// The known_hosts file in which to record `pin` once the server presents it, or nil.
    /// In a terminal the user is asked; otherwise a differing record is only pointed out.
    static func confirm(_ pin: String, host: String, port: Int, knownHosts: String, interactive: Bool) -> String? {
        let recorded = CertificatePin.recorded(host: host, port: port, in: knownHosts)
        guard recorded != pin else { return nil }
        let entry = CertificatePin.entry(host: host, port: port)
        guard interactive else {
            if let recorded {
                FileHandle.standardError.write(Data(("catroom: \(knownHosts) still records \(recorded) for \(entry), not the --pin fingerprint;"
                    + " to record the new one, remove the line `\(entry) SHA256:\(recorded)` from it, or run this command in a terminal, which asks\n").utf8))
            }
            return nil
        }
        let question = recorded.map { "catroom: \(knownHosts) records \($0) for \(entry).\nReplace it with the --pin fingerprint once the server presents it? [y/N] " }
            ?? "catroom: record the --pin fingerprint for \(entry) in \(knownHosts) once the server presents it? [y/N] "
        FileHandle.standardOutput.write(Data(question.utf8))
        let answer = readLine(strippingNewline: true)?.trimmingCharacters(in: .whitespaces).lowercased()
        return answer == "y" || answer == "yes" ? knownHosts : nil
    }
}
