import ArgumentParser
import CatroomClient
import Foundation

/// `catroom join`'s exit statuses, as docs/user-guide.md lists them: 0 after a quit,
/// 1 when the connection is lost for good, one per kind of failure to reach the room
/// given on the command line, 5 for a profile that cannot be used, and 64 (EX_USAGE, ArgumentParser's) for a bad command line.
enum ExitStatus {
    /// Line and JSON modes: the room was reached, then the connection was lost and did
    /// not come back (reconnecting off, given up, or refused).
    static let lost = ExitCode.failure

    static func of(_ kind: ConnectFailure.Kind) -> Int32 {
        switch kind {
        case .cannotConnect: 2
        case .trust: 3
        case .refused: 4
        }
    }

    /// A profile that cannot be used: missing, in use, a wrong passphrase, damaged.
    static let profile: Int32 = 5

    /// Prints `catroom: <text>` on standard error; the exit to throw for a profile that cannot be used.
    static func fail(profile text: String) -> ExitCode {
        FileHandle.standardError.write(Data("catroom: \(text)\n".utf8))
        return ExitCode(profile)
    }

    /// Prints the failure as `catroom: ...` on standard error; the exit to throw.
    static func fail(_ failure: ConnectFailure) -> ExitCode {
        FileHandle.standardError.write(Data("catroom: \(failure)\n".utf8))
        return ExitCode(of(failure.kind))
    }
}
