import ArgumentParser
import CatroomClient
import CatroomProfile
import Foundation

extension Catroom.Bench {
    /// `catroom bench ui`: the full-screen view under a stream of messages over several buffers.
    struct UILoad: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ui",
            abstract: "The full-screen view under incoming messages over several buffers: redraw cost and keystroke latency.",
            discussion: """
                Drives the real full-screen front end in-process (no server, no terminal: the bytes it would \
                write are counted) with messages at --rate spread over --buffers rooms, and a key every 50 ms. \
                Each message and key is redrawn after it, as in `catroom join`. Modes, in one run: messages \
                spread over the buffers with one shown (the ordinary case), every message in the buffer shown, \
                and the spread case repainting the whole screen each time (the baseline: a UI without diffing). \
                Keystroke latency is from the moment a key is due to the end of its redraw, messages included. \
                Build with -c release for meaningful numbers.
                """)

        @Option(help: "Incoming messages per second.")
        var rate = 200.0

        @Option(help: "Rooms the messages are spread over, one of them shown.")
        var buffers = 5

        @Option(help: "Seconds per mode.")
        var seconds = 5.0

        @Option(help: "Terminal size, COLUMNSxROWS.")
        var size = "120x40"

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        func validate() throws {
            guard rate > 0, rate <= 100_000 else { throw ValidationError("--rate must be between 0 and 100000") }
            guard (1...9).contains(buffers) else { throw ValidationError("--buffers must be 1 to 9") }
            guard seconds > 0, seconds <= 600 else { throw ValidationError("--seconds must be between 0 and 600") }
            guard terminalSize != nil else { throw ValidationError("--size must be COLUMNSxROWS, at least 20x5") }
        }

        private var terminalSize: TerminalScreen.Size? {
            let parts = size.split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts[0] >= 20, parts[1] >= 5, parts[0] <= 1000, parts[1] <= 1000 else { return nil }
            return TerminalScreen.Size(rows: parts[1], columns: parts[0])
        }

        struct Report: Encodable {
            let rate: Double
            let buffers: Int
            let seconds: Double
            let columns: Int
            let rows: Int
            let modes: [Row]
        }

        struct Row: Encodable {
            let mode: String
            let messages: Int
            let redrawMicrosecondsMean: Double
            let redrawMicrosecondsP99: Double
            let bytesPerMessage: Double
            let keys: Int
            let keyLatencyMillisecondsP50: Double
            let keyLatencyMillisecondsP99: Double
            let keyLatencyMillisecondsMax: Double
        }

        func run() async throws {
            guard let size = terminalSize else { return }
            var rows: [Row] = []
            for mode in Mode.allCases {
                rows.append(await measure(mode, size: size))
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                let report = Report(rate: rate, buffers: buffers, seconds: seconds, columns: size.columns, rows: size.rows, modes: rows)
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print(Self.table(rows, rate: rate, buffers: buffers, size: size))
            }
        }

        enum Mode: String, CaseIterable {
            case spread = "spread over buffers, one shown"
            case visible = "all in the buffer shown"
            case repaint = "spread, whole screen repainted (baseline)"
        }

        /// One mode: an open loop of messages and keys, each processed when due.
        private func measure(_ mode: Mode, size: TerminalScreen.Size) async -> Row {
            let configuration = ClientConfiguration(host: "127.0.0.1", domain: "bench.invalid", room: "room0", nick: "me", trust: .insecure)
            let session = ChatSession(configuration: configuration, output: SilentOutput())
            let written = Counter()
            let frontEnd = TerminalFrontEnd(
                session: session, size: size, palette: TerminalPalette(depth: .indexed), unicode: true, alerts: false,
                write: { written.bytes += $0.utf8.count })
            frontEnd.repaintsEverything = mode == .repaint
            let rooms = (0..<buffers).map { "room\($0)@rooms.bench.invalid" }
            let members = (0..<8).map { MemberInfo(id: String(format: "member%026d", $0), nick: "member\($0)", fingerprint: "", verified: false, ready: true) }
            for room in rooms {
                _ = await frontEnd.process(.chat(ClientUpdate(room: room, event: .joined(room: room, occupants: members.count))))
            }
            _ = await frontEnd.process(.keys([.alt("1")]))

            let clock = ContinuousClock()
            let start = clock.now
            let messageCount = Int((rate * seconds).rounded())
            let messageInterval = Duration.seconds(1 / rate)
            let keyInterval = Duration.milliseconds(50)
            let keyCount = Int((seconds * 20).rounded())
            var (nextMessage, nextKey) = (0, 0)
            var redraws: [Duration] = []
            var latencies: [Duration] = []
            written.bytes = 0
            while nextMessage < messageCount || nextKey < keyCount {
                let messageDue = start + messageInterval * nextMessage
                let keyDue = start + keyInterval * nextKey
                let isKey = nextKey < keyCount && (nextMessage >= messageCount || keyDue < messageDue)
                let due = isKey ? keyDue : messageDue
                if clock.now < due { try? await Task.sleep(until: due, clock: clock) }
                if isKey {
                    // Type a letter, and now and then send the line: both redraw the input.
                    let keys: [TerminalKey] = nextKey % 20 == 19 ? [.control("u")] : [.text("a")]
                    _ = await frontEnd.process(.keys(keys))
                    latencies.append(clock.now - due)
                    nextKey += 1
                } else {
                    let room = mode == .visible ? rooms[0] : rooms[nextMessage % rooms.count]
                    let member = members[nextMessage % members.count]
                    let message = ChatMessage(
                        from: member, text: "message \(nextMessage) with some ordinary words in it", isAction: false, isPrivate: false,
                        sent: Date(), missingRecipients: [], unknownRecipients: [], isOwn: false, id: String(format: "%032x", nextMessage))
                    let began = clock.now
                    _ = await frontEnd.process(.chat(ClientUpdate(room: room, event: .message(message))))
                    redraws.append(clock.now - began)
                    nextMessage += 1
                }
            }
            let micros = redraws.map { $0.seconds * 1_000_000 }.sorted()
            let millis = latencies.map { $0.seconds * 1000 }.sorted()
            func at(_ p: Double, _ sorted: [Double]) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
            return Row(
                mode: mode.rawValue, messages: micros.count, redrawMicrosecondsMean: micros.reduce(0, +) / Double(max(micros.count, 1)),
                redrawMicrosecondsP99: at(0.99, micros), bytesPerMessage: Double(written.bytes) / Double(max(micros.count + millis.count, 1)),
                keys: millis.count, keyLatencyMillisecondsP50: at(0.5, millis), keyLatencyMillisecondsP99: at(0.99, millis),
                keyLatencyMillisecondsMax: millis.last ?? 0)
        }

        static func table(_ rows: [Row], rate: Double, buffers: Int, size: TerminalScreen.Size) -> String {
            func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s : s + String(repeating: " ", count: width - s.count) }
            func lpad(_ s: String, _ width: Int) -> String { s.count >= width ? s : String(repeating: " ", count: width - s.count) + s }
            var lines = [
                "\(Int(rate)) messages/s over \(buffers) buffers, a key every 50 ms, \(size.columns)x\(size.rows)",
                pad("mode", 44) + lpad("redraw µs", 11) + lpad("p99", 9) + lpad("bytes/draw", 12) + lpad("key ms p50", 12) + lpad("p99", 8) + lpad("max", 8),
                String(repeating: "-", count: 104),
            ]
            for row in rows {
                lines.append(
                    pad(row.mode, 44) + lpad(String(format: "%.1f", row.redrawMicrosecondsMean), 11)
                        + lpad(String(format: "%.1f", row.redrawMicrosecondsP99), 9) + lpad(String(format: "%.0f", row.bytesPerMessage), 12)
                        + lpad(String(format: "%.2f", row.keyLatencyMillisecondsP50), 12) + lpad(String(format: "%.2f", row.keyLatencyMillisecondsP99), 8)
                        + lpad(String(format: "%.2f", row.keyLatencyMillisecondsMax), 8))
            }
            return lines.joined(separator: "\n")
        }
    }
}

/// The bytes a front end would have written.
private final class Counter: @unchecked Sendable {
    var bytes = 0
}

/// A session's own output, unused: the front end under test is driven directly.
private final class SilentOutput: ChatOutput, @unchecked Sendable {
    func show(_ update: ClientUpdate) {}
    func show(_ reply: CatroomClient.Reply, to command: Command) {}
    func showQuery(_ target: String?) {}
    func showHelp() {}
    func showHistory(_ entries: [HistoryEntry], of conversation: Conversation, named name: String) {}
}

private extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
