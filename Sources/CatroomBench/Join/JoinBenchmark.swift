import CatroomClient
import CatroomServer
import Foundation
import Logging
import NIOPosix

/// `catroom bench join`: how long `catroom join` takes, from start until the new
/// member can message everyone (every key exchange done), in rooms of a given size.
///
/// The room's other members are in-process clients on an in-process server on
/// loopback (TLS on, certificate pinned). Each measurement is one fresh member
/// joining: in-process (the engine alone), and as a `catroom join --json` process
/// (so process start-up counts too) when the binary is given.
public struct JoinBenchmark {
    public struct Row: Sendable, Codable {
        public let members: Int
        public let mode: String
        public let medianMilliseconds: Double
        public let p90Milliseconds: Double
        public let maxMilliseconds: Double
        public let samples: Int
    }

    let sizes: [Int]
    let repeats: Int
    let binary: String?

    public init(sizes: [Int] = [10, 50], repeats: Int = 5, binary: String? = nil) {
        self.sizes = sizes
        self.repeats = repeats
        self.binary = binary
    }

    public func run() async throws -> [Row] {
        var rows: [Row] = []
        for size in sizes {
            let server = try await Self.startServer(occupants: size)
            let room = "bench\(size)"
            // Everyone but the newcomer, joined one after another.
            var members: [(CatroomClient, Task<Void, Never>)] = []
            for index in 0..<(size - 1) {
                let client = CatroomClient(configuration: configuration(server, room: room, nick: "member\(index)"))
                let task = Task { await client.run() }
                guard await Self.ready(client, within: .seconds(30)) != nil else { throw Failure("member \(index) never got ready") }
                members.append((client, task))
            }
            var inProcess: [Double] = []
            for _ in 0..<repeats {
                let client = CatroomClient(configuration: configuration(server, room: room, nick: "newcomer"))
                let start = ContinuousClock.now
                let task = Task { await client.run() }
                guard await Self.ready(client, within: .seconds(30), expecting: size - 1) != nil else { throw Failure("the newcomer never got ready") }
                inProcess.append(Self.milliseconds(ContinuousClock.now - start))
                await client.leave()
                _ = await task.value
            }
            rows.append(Self.row(size, "in-process", inProcess))
            if let binary {
                var processes: [Double] = []
                for _ in 0..<repeats { processes.append(try await Self.timeProcess(binary, server: server, room: room, expecting: size - 1)) }
                rows.append(Self.row(size, "catroom join process", processes))
            }
            for (client, task) in members {
                await client.leave()
                _ = await task.value
            }
            await server.shutdown()
        }
        return rows
    }

    func configuration(_ server: Server, room: String, nick: String) -> ClientConfiguration {
        var configuration = ClientConfiguration(
            host: "127.0.0.1", domain: "localhost", room: room, nick: nick, trust: .pinned(server.certificateFingerprint))
        configuration.port = server.port
        return configuration
    }

    static func startServer(occupants: Int) async throws -> Server {
        let directory = FileManager.default.temporaryDirectory.appending(path: "catroom-bench-\(UUID().uuidString)")
        var configuration = ServerConfiguration(domain: "localhost", dataDirectory: directory.path)
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.directTLSPort = nil
        // Every member comes from 127.0.0.1 here: the per-address limits are raised for the bench only.
        configuration.limits.connectionsPerAddress = 10_000
        configuration.limits.connectionAttemptsPerMinute = 1_000_000
        configuration.limits.registrationsPerMinute = 1_000_000
        configuration.limits.maxOccupants = max(occupants, 2)
        var logger = Logger(label: "catroom.bench")
        logger.logLevel = .critical
        return try await Server.start(configuration: configuration, logger: logger)
    }

    /// Waits for the client's `ready` event (with all `expecting` members), or gives up.
    static func ready(_ client: CatroomClient, within limit: Duration, expecting members: Int? = nil) async -> ClientEvent? {
        await withTaskGroup(of: ClientEvent?.self) { group in
            group.addTask {
                for await update in client.events {
                    let event = update.event
                    if case .ready(let count) = event, members == nil || count == members { return event }
                    if case .disconnected = event { return nil }
                }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            let result = await group.next() ?? nil
            group.cancelAll()
            return result
        }
    }

    /// Runs `catroom join --json` and times it until its `ready` event.
    static func timeProcess(_ binary: String, server: Server, room: String, expecting members: Int) async throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "join", room, "--nick", "newcomer", "--server", "127.0.0.1", "--domain", "localhost", "--port", String(server.port),
            "--pin", server.certificateFingerprint, "--json",
        ]
        let output = Pipe(), input = Pipe()
        process.standardOutput = output
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        let start = ContinuousClock.now
        try process.run()
        var elapsed: Double?
        var buffer = Data()
        let handle = output.fileHandleForReading
        while elapsed == nil {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            buffer += chunk
            while let newline = buffer.firstIndex(of: 0x0A) {
                let line = buffer[..<newline]
                buffer = buffer[(newline + 1)...]
                if let event = try? JSONSerialization.jsonObject(with: line) as? [String: Any],
                   event["event"] as? String == "ready", event["members"] as? Int == members {
                    elapsed = milliseconds(ContinuousClock.now - start)
                }
            }
        }
        try? input.fileHandleForWriting.write(contentsOf: Data("/quit\n".utf8))
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        guard let elapsed else { throw Failure("catroom join never got ready") }
        return elapsed
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    static func row(_ members: Int, _ mode: String, _ samples: [Double]) -> Row {
        let sorted = samples.sorted()
        return Row(
            members: members, mode: mode, medianMilliseconds: percentile(0.5, ofSorted: sorted) ?? 0,
            p90Milliseconds: percentile(0.9, ofSorted: sorted) ?? 0,
            maxMilliseconds: sorted.last ?? 0, samples: sorted.count)
    }

    public static func table(_ rows: [Row]) -> String {
        var lines = ["room size  how                      median ms   p90 ms   max ms  samples   target", String(repeating: "-", count: 86)]
        for row in rows {
            let target = row.members == 50 ? (row.medianMilliseconds < 300 ? "< 300 ms met" : "< 300 ms MISSED") : ""
            let numbers = String(format: "%10.1f %8.1f %8.1f %8d   ", row.medianMilliseconds, row.p90Milliseconds, row.maxMilliseconds, row.samples)
            lines.append(String(format: "%9d  ", row.members) + row.mode.padding(toLength: 22, withPad: " ", startingAt: 0) + " " + numbers + target)
        }
        return lines.joined(separator: "\n")
    }

    public static func json(_ rows: [Row]) throws -> String {
        try prettyJSON(rows)
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
