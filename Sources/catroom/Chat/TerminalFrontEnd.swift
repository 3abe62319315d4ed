import CatroomClient
import CatroomProfile
import Foundation

/// The terminal UI's state and behaviour, on one task: keys, chat events, replies and
/// signals arrive in order as `Event`s, each changes the screen, and the screen is
/// redrawn. Nothing else touches the screen, so it needs no lock.
final class TerminalFrontEnd {
    enum Event: Sendable {
        case keys([TerminalKey])
        case chat(ClientEvent)
        case reply(CatroomClient.Reply)
        case query(String?)
        case help
        /// Stored history, before the live messages.
        case history([HistoryEntry])
        case clear
        case resize
        /// Continued after a stop (`fg`): the terminal settings may have changed.
        case resumed
        case signal(Int32)
        /// Standard input ended: the terminal went away.
        case inputClosed
        /// The room given on the command line cannot be reached.
        case failed(ConnectFailure)
    }

    enum Outcome: Equatable {
        /// `/quit`: the session has already left.
        case quit
        /// Ctrl-C, Ctrl-D, a signal, the terminal gone: the session still has to leave.
        case interrupted
        /// The room given on the command line cannot be reached: the chat ends with it.
        case failed(ConnectFailure)
    }

    /// Where the connection stands, for the status line.
    private enum Connection: Equatable {
        case connecting, exchangingKeys, ready, disconnected, left
        /// Waiting this many seconds before the next attempt.
        case reconnecting(Int)

        var label: String {
            switch self {
            case .connecting: "connecting"
            case .exchangingKeys: "exchanging keys"
            case .ready: "encrypted"
            case .disconnected: "disconnected"
            case .left: "not in a room"
            case .reconnecting(let seconds): "reconnecting in \(seconds) s…"
            }
        }
    }

    private let session: ChatSession
    private var screen: TerminalScreen
    private var editor = LineEditor()
    private var display = TerminalDisplay()
    private var transcript: TerminalTranscript
    private var alerts: TerminalAlerts
    private var connection = Connection.connecting
    /// "TLS not checked" or "no TLS", shown on the status line for as long as it holds.
    private var trustWarning: String?
    /// The room safety code (CR-0007), on the status line in full or its first two groups.
    private var safetyCode: String?
    /// The session's `/query` target (it is the one that knows: keys typed in the same
    /// burst as `/query` are handled before its notice arrives).
    private var queryTarget: String? { session.queryTarget?.nick }
    /// When each nick last spoke, so Tab offers the most recent speakers first.
    private var lastSpoke: [String: Int] = [:]
    private var spoken = 0
    /// Private lines sent and not yet shown, to name their recipient (the event does not).
    /// Between Ctrl-Z and `fg`: nothing is drawn.
    private var suspended = false
    /// Set while /part or /join takes the old connection down: its disconnection is
    /// expected, and the state after it is this.
    private var leaving: Connection?
    private let clock: DateFormatter = {
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm"
        return formatter
    }()

    /// The last disconnection, to print once the screen is gone.
    private(set) var farewell: String?

    init(session: ChatSession, size: TerminalScreen.Size, palette: TerminalPalette, unicode: Bool, alerts: Bool) {
        self.session = session
        screen = TerminalScreen(size: size, palette: palette)
        screen.newlineSymbol = unicode ? "↵" : "|"
        transcript = TerminalTranscript(palette: palette, unicode: unicode)
        self.alerts = TerminalAlerts(enabled: alerts, room: session.configuration.room)
    }

    func run(_ events: AsyncStream<Event>) async -> Outcome {
        append([TerminalTranscript.noticeLine(
            "catroom: joining \(session.configuration.roomAddress) as \(session.configuration.nick); /help lists commands and keys")])
        render()
        for await event in events {
            if let outcome = await handle(event) { return outcome }
            render()
        }
        return .interrupted
    }

    // MARK: - Events

    private func handle(_ event: Event) async -> Outcome? {
        switch event {
        case .keys(let keys):
            // Keys while suspended: the stop did not happen (an orphaned process group).
            if suspended { resume() }
            alerts.seen()
            for key in keys {
                if let outcome = await handle(key) { return outcome }
            }
        case .chat(let event):
            await show(event)
        case .reply(let reply):
            append(transcript.lines(for: reply))
        case .query(let target):
            append(transcript.query(target))
        case .help:
            append(transcript.help())
        case .history(let entries):
            append(TerminalTranscript.history(entries))
        case .clear:
            screen.clear()
        case .resize:
            screen.resize(TerminalDevice.size())
            display.invalidate()
        case .resumed:
            resume()
        case .signal, .inputClosed:
            return .interrupted
        case .failed(let failure):
            return .failed(failure)
        }
        return nil
    }

    private func show(_ event: ClientEvent) async {
        switch event {
        case .connected(_, let trust, let me):
            connection = .exchangingKeys
            leaving = nil
            farewell = nil
            safetyCode = nil
            transcript.me = me
            trustWarning = switch trust {
            case .unchecked: "TLS not checked"
            case .plaintext: "no TLS"
            case .recorded, .matched: nil
            }
        case .joined(_, let occupants):
            if occupants == 0 { connection = .ready }
        case .ready:
            connection = .ready
        case .safetyCode(let code, _):
            safetyCode = code
        case .message(let message):
            if !message.isOwn {
                spoken += 1
                lastSpoke[message.from.nick] = spoken
                if message.isPrivate || transcript.me.map({ TerminalTranscript.mentions(message.text, $0.nick) }) == true { alerts.alert() }
            }
        case .delivery(let id, let acknowledged, let pending):
            screen.mark(id, with: transcript.deliveryMark(acknowledged: acknowledged.count, recipients: acknowledged.count + pending.count))
        case .disconnected(let reason):
            if leaving == nil { farewell = "catroom: disconnected: \(reason)" }
            connection = leaving ?? .disconnected
        case .reconnecting(let seconds, _, _):
            connection = .reconnecting(Int(seconds.rounded(.up)))
        default:
            break
        }
        append(transcript.lines(for: event, expected: leaving != nil))
        if case .disconnected = event { leaving = nil }
        switch event {
        case .connected, .joined, .ready, .memberJoined, .memberPresent, .memberReconnected, .memberPending, .memberLeft, .nickChanged,
             .disconnected, .reconnecting:
            await refreshMembers()
        default:
            break
        }
    }

    private func refreshMembers() async {
        guard let client = session.client else {
            transcript.members = []
            return
        }
        transcript.members = await client.members()
        if let me = await client.me() { transcript.me = me }
    }

    // MARK: - Keys

    private func handle(_ key: TerminalKey) async -> Outcome? {
        switch key {
        case .text(let text): editor.insert(text)
        case .paste(let text): editor.insert(Self.pasted(text))
        case .enter: return await submit(editor.submit())
        case .altEnter: editor.insert("\n")
        case .tab: complete(backward: false)
        case .backTab: complete(backward: true)
        case .backspace: editor.backspace()
        case .delete: editor.deleteForward()
        case .left, .control("b"): editor.moveLeft()
        case .right, .control("f"): editor.moveRight()
        case .home, .control("a"): editor.moveHome()
        case .end, .control("e"): editor.moveEnd()
        case .wordLeft, .alt("b"): editor.moveWordLeft()
        case .wordRight, .alt("f"): editor.moveWordRight()
        case .up, .control("p"): editor.historyPrevious()
        case .down, .control("n"): editor.historyNext()
        case .pageUp: screen.scrollPage(up: true)
        case .pageDown: screen.scrollPage(up: false)
        case .control("u"): editor.killToStart()
        case .control("k"): editor.killToEnd()
        case .control("w"), .altBackspace: editor.killWordBackward()
        case .alt("d"): editor.killWordForward()
        case .control("y"): editor.yank()
        case .control("l"): display.invalidate()
        case .control("z"): suspend()
        case .control("c"):
            return .interrupted
        case .control("d"):
            if editor.isEmpty { return .interrupted }
            editor.deleteForward()
        default: break
        }
        return nil
    }

    /// A bracketed paste keeps its lines (CR, LF or CRLF each a newline), without the
    /// newline that ends a copied block: it is one message, sent with Enter.
    static func pasted(_ text: String) -> String {
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        var kept = Substring(TerminalText.sanitized(lines))
        while kept.last == "\n" { kept.removeLast() }
        return String(kept)
    }

    private func complete(backward: Bool) {
        let others = transcript.members.filter { $0.id != transcript.me?.id }
        // Most recent speakers first, then in the order they arrived.
        let nicks = others.enumerated().sorted { a, b in
            let (left, right) = (lastSpoke[a.element.nick] ?? 0, lastSpoke[b.element.nick] ?? 0)
            return left != right ? left > right : a.offset < b.offset
        }.map(\.element.nick)
        editor.complete(commands: Command.all.map(\.name), nicks: nicks, backward: backward)
    }

    private func submit(_ line: String) async -> Outcome? {
        screen.scrollToBottom()
        guard let command = Command.parse(line) else { return nil }
        switch command {
        case .quit:
            // Leaving waits for the server; never longer than this.
            TerminalDevice.exitAfter(seconds: 3)
        case .part, .join:
            // Only a live connection announces its end.
            let live = session.client != nil && [.connecting, .exchangingKeys, .ready].contains(connection)
            leaving = live ? (command == .part ? .left : .connecting) : nil
        default:
            break
        }
        guard await session.handle(line) else { return .quit }
        switch command {
        case .join, .part:
            // The old connection's last events are still on their way (expected, they say so).
            connection = command == .part ? .left : .connecting
            trustWarning = nil
            safetyCode = nil
            transcript.me = nil
            transcript.members = []
        default:
            await refreshMembers()
        }
        return nil
    }

    /// Ctrl-Z: the shell gets its terminal back and the process stops; SIGCONT (`fg`)
    /// arrives as `.resumed`. `kill`, not `raise`: the task's thread blocks signals, so
    /// the signal must go to the process.
    private func suspend() {
        suspended = true
        TerminalDevice.leave()
        kill(getpid(), SIGTSTP)
    }

    private func resume() {
        suspended = false
        try? TerminalDevice.resume()
        screen.resize(TerminalDevice.size())
        display.invalidate()
    }

    // MARK: - Drawing

    private func append(_ lines: [TerminalLine]) {
        let time = clock.string(from: Date())
        for line in lines { screen.append(line, time: time) }
    }

    private func render() {
        guard !suspended else { return }
        screen.status = statusLine()
        screen.prompt = prompt()
        let frame = screen.frame(editor: editor)
        TerminalDevice.write(alerts.take() + display.update(to: frame, columns: screen.size.columns))
    }

    /// Room, members (verified, without keys), safety code, query, connection, trust;
    /// when the whole line does not fit, the first two groups of the code, then the
    /// room's short name, and last no code rather than losing the state or a warning.
    private func statusLine() -> [TerminalSpan] {
        let configuration = session.configuration
        let short = safetyCode.map { $0.split(separator: " ").prefix(2).joined(separator: " ") + (transcript.unicode ? "…" : "...") }
        let choices = [
            (configuration.roomAddress, safetyCode), (configuration.roomAddress, short), (configuration.room, short), (configuration.room, nil),
        ]
        let lines = choices.map { statusLine(room: $0, safety: $1) }
        return lines.first { TerminalText.width($0.map(\.text).joined()) <= screen.size.columns } ?? lines[lines.count - 1]
    }

    private func statusLine(room: String, safety: String?) -> [TerminalSpan] {
        let separator = TerminalSpan(transcript.unicode ? " │ " : " | ")
        let bold = TerminalTranscript.bold
        var spans = [TerminalSpan(" "), TerminalSpan(room, bold), separator]
        if let me = transcript.me, connection != .left {
            let others = transcript.members.filter { $0.id != me.id }
            let count = others.count + 1
            spans.append(TerminalSpan("\(count) member\(count == 1 ? "" : "s"), \(others.filter(\.verified).count) verified"))
            let pending = others.filter { !$0.ready }.count
            if pending > 0 { spans.append(TerminalSpan(", \(pending) without keys!", bold)) }
            spans.append(separator)
            if let safety { spans += [TerminalSpan("safety "), TerminalSpan(safety, bold), separator] }
        }
        if let queryTarget {
            spans += [TerminalSpan("query: "), TerminalSpan(queryTarget, bold), separator]
        }
        let label = transcript.unicode ? connection.label : connection.label.replacingOccurrences(of: "…", with: "...")
        let lost = if case .reconnecting = connection { true } else { connection == .disconnected }
        spans.append(TerminalSpan(label, lost ? bold : .plain))
        if let trustWarning { spans += [separator, TerminalSpan(trustWarning)] }
        return spans
    }

    private func prompt() -> [TerminalSpan] {
        if let queryTarget {
            return [TerminalSpan("[\(transcript.arrow) \(queryTarget)]", TerminalTranscript.privateChat.with { $0.bold = true }), TerminalSpan(" ")]
        }
        return [TerminalSpan("[\(session.configuration.room)]", TerminalTranscript.bold), TerminalSpan(" ")]
    }
}
