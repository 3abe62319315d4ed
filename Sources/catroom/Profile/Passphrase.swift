import CatroomCrypto
import Foundation

/// A profile's passphrase: from the file `CATROOM_PASSPHRASE_FILE` names (its first line),
/// else typed on the terminal (/dev/tty) without echo.
enum Passphrase {
    /// The longest passphrase read, in bytes.
    static let maximumCount = 1024

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The passphrase; `confirm` asks twice on a terminal and refuses two that differ.
    /// `fileVariable` names the environment variable that may give a file instead.
    static func request(prompt: String, confirm: Bool = false, fileVariable: String = "CATROOM_PASSPHRASE_FILE") throws -> SecretBytes {
        let passphrase: SecretBytes
        if let path = ProcessInfo.processInfo.environment[fileVariable], !path.isEmpty {
            passphrase = try fromFile(path, variable: fileVariable)
        } else {
            passphrase = try fromTerminal(prompt: prompt)
            if confirm, try fromTerminal(prompt: "again: ") != passphrase {
                throw Failure(description: "the two passphrases differ; nothing was changed")
            }
        }
        guard passphrase.count > 0 else { throw Failure(description: "the passphrase is empty") }
        return passphrase
    }

    private static func fromFile(_ path: String, variable: String) throws -> SecretBytes {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Failure(description: "cannot read \(variable) \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        return try readLine(descriptor)
    }

    /// Asks on /dev/tty with echo off (and signals off, so that Ctrl-C cancels without
    /// leaving the terminal silent), and restores the terminal.
    private static func fromTerminal(prompt: String) throws -> SecretBytes {
        let tty = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard tty >= 0 else { throw Failure(description: "no terminal to ask the passphrase on: set CATROOM_PASSPHRASE_FILE to a file that holds it") }
        defer { close(tty) }
        var saved = termios()
        guard tcgetattr(tty, &saved) == 0 else { throw Failure(description: "cannot set up the terminal to ask the passphrase") }
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO | ISIG)
        quiet.c_lflag |= tcflag_t(ICANON)
        _ = write(tty, prompt, prompt.utf8.count)
        _ = tcsetattr(tty, TCSAFLUSH, &quiet)
        defer {
            _ = tcsetattr(tty, TCSAFLUSH, &saved)
            _ = write(tty, "\n", 1)
        }
        return try readLine(tty)
    }

    /// Bytes up to the first newline (or the end), read one at a time into a secret
    /// buffer; a Ctrl-C or a line longer than `maximumCount` is refused.
    private static func readLine(_ descriptor: Int32) throws -> SecretBytes {
        var length = 0
        var cancelled = false
        let buffer = try SecretBytes(count: maximumCount + 1) { bytes in
            bytes.initializeMemory(as: UInt8.self, repeating: 0)
            while length <= maximumCount {
                let got = read(descriptor, bytes.baseAddress! + length, 1)
                if got < 0, errno == EINTR { continue }
                guard got == 1 else { break }
                let byte = bytes[length]
                if byte == UInt8(ascii: "\n") { break }
                if byte == 3 { cancelled = true; break }
                length += 1
            }
            guard length <= maximumCount else { throw Failure(description: "the passphrase is longer than \(maximumCount) bytes") }
        }
        if cancelled { throw Failure(description: "cancelled; nothing was changed") }
        // A file written on Windows ends its line with CR LF.
        if length > 0, buffer.withUnsafeBytes({ $0[length - 1] }) == UInt8(ascii: "\r") { length -= 1 }
        return buffer.slice(0..<length)
    }
}
