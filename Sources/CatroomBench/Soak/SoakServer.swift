import Foundation
import Synchronization

/// The server under soak: `catroom serve` as a child process of this binary, so that its
/// RSS is the server's alone, with catroom's default limits but for the pre-authentication
/// deadline (short, so half-open connections are cut within a short run).
final class SoakServer: Sendable {
    let pid: Int32
    let port: Int
    /// The certificate's SHA-256 fingerprint, for the clients to pin.
    let fingerprint: String
    private let process: Process
    private let directory: URL

    static let preAuthenticationSeconds = 5

    private init(process: Process, port: Int, fingerprint: String, directory: URL) {
        self.process = process
        pid = process.processIdentifier
        self.port = port
        self.fingerprint = fingerprint
        self.directory = directory
    }

    /// Starts `binary serve` on a free loopback port and waits (at most a minute) for its start-up lines.
    static func start(binary: String) throws -> SoakServer {
        let directory = FileManager.default.temporaryDirectory.appending(path: "catroom-soak-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "serve", "--host", "127.0.0.1", "--port", "0", "--direct-tls-port", "0", "--data-dir", directory.path,
            "--log-level", "error", "--pre-auth-seconds", String(preAuthenticationSeconds),
        ]
        let output = Pipe(), printed = Printed()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        output.fileHandleForReading.readabilityHandler = { printed.append($0.availableData) }
        try process.run()
        // Read on Foundation's thread, polled here: a server that hangs silently fails the wait.
        for _ in 0..<1200 {
            if printed.text.contains("join with:") || !process.isRunning { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        output.fileHandleForReading.readabilityHandler = nil
        let text = printed.text
        guard let port = Self.field(after: "on port ", in: text).flatMap({ Int($0) }),
              let fingerprint = Self.field(after: "certificate SHA-256 ", in: text)
        else {
            process.terminate()
            throw SoakError("the server did not start: \(text.isEmpty ? "no output" : text)")
        }
        return SoakServer(process: process, port: port, fingerprint: fingerprint, directory: directory)
    }

    /// The word after `prefix` in the server's start-up lines.
    static func field(after prefix: String, in text: String) -> String? {
        guard let range = text.range(of: prefix) else { return nil }
        return text[range.upperBound...].split(whereSeparator: { $0 == " " || $0 == "\n" }).first.map(String.init)
    }

    var isRunning: Bool { process.isRunning }

    /// What the server printed so far.
    private final class Printed: Sendable {
        private let bytes = Mutex(Data())

        func append(_ data: Data) { bytes.withLock { $0 += data } }

        var text: String { String(decoding: bytes.withLock { $0 }, as: UTF8.self) }
    }

    /// SIGTERM, then the wait for it to exit; removes its data directory.
    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Why a soak could not run.
public struct SoakError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
