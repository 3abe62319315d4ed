import CatroomClient
import CatroomProfile
import Foundation

/// The terminal UI's state and behaviour, on one task: keys, chat events, replies and
/// signals arrive in order as `Event`s, each changes the screen, and the screen is
/// redrawn. Nothing else touches the screen, so it needs no lock.
final class TerminalFrontEnd {
    enum Event: Sendable {
        case keys([TerminalKey])
        case chat(ClientUpdate)
        case reply(CatroomClient.Reply)
        case query(String?)
        case help
        /// Stored history of a room or private chat, before its live messages.
        case history([HistoryEntry], TerminalBuffers.Buffer.Key)
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
    private var buffers: TerminalBuffers
    /// The scrollback shown: the current buffer's.
    private var screen: TerminalScreen {
        _read { yield buffers.current.screen }
        _modify { yield &buffers.current.screen }
    }
    /// The input line: the current buffer's.
    private var editor: LineEditor {
        _read { yield buffers.current.editor }
        _modify { yield &buffers.current.editor }
    }
    /// The last `/search`, which Ctrl-R repeats further up.
    private var lastSearch: String?
    private var display = TerminalDisplay()
    private var transcript: TerminalTranscript
    private var alerts: TerminalAlerts
    private var connection = Connection.connecting
    /// "TLS not checked" or "no TLS", shown on the status line for as long as it holds.
    private var trustWarning: String?
    /// The room safety code (CR-0007), on the status line in full or its first two groups.
    private var safetyCode: String? { buffers.current.member == nil ? buffers.current.safetyCode : nil }
    /// The session's `/query` target (it is the one that knows: keys typed in the same
    /// burst as `/query` are handled before its notice arrives).
    private var queryTarget: String? { session.queryTarget?.nick }
    /// When each nick last spoke, so Tab offers the most recent speakers first.
    private var lastSpoke: [String: Int] = [:]
    private var spoken = 0
    /// Private lines sent and not yet shown, to name their recipient (the event does not).
    /// Between Ctrl-Z and `fg`: nothing is drawn.
    private var suspended = false
    /// Set while /part in the last room takes the connection down: its disconnection is
    /// expected, and the state after it is this.
    private var leaving: Connection?
    private let clock: DateFormatter = {
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm"
        return formatter
    }()

    /// The last disconnection, to print once the screen is gone.
    private(set) var farewell: String?

    /// Where the bytes go: the terminal, or `catroom bench ui`'s counter.
    private let write: (String) -> Void
    /// Repaint the whole screen every time, as a UI without diffing would: `catroom bench ui`'s baseline.
    var repaintsEverything = false

    init(
        session: ChatSession, size: TerminalScreen.Size, palette: TerminalPalette, unicode: Bool, alerts: Bool,
        write: @escaping (String) -> Void = TerminalDevice.write
    ) {
        self.session = session
        self.write = write
        let room = (try? session.configuration.roomJID())?.description ?? session.configuration.roomAddress
        buffers = TerminalBuffers(room: room, size: size, palette: palette)
        transcript = TerminalTranscript(palette: palette, unicode: unicode)
        self.alerts = TerminalAlerts(enabled: alerts, room: session.configuration.room)
        screen.newlineSymbol = unicode ? "↵" : "|"
    }

    func run(_ events: AsyncStream<Event>) async -> Outcome {
        append([TerminalTranscript.noticeLine(
            "catroom: joining \(session.configuration.roomAddress) as \(session.configuration.nick); /help lists commands and keys")])
        render()
        for await event in events {
            if let outcome = await process(event) { return outcome }
        }
        return .interrupted
    }

    /// One event, and the screen redrawn after it.
    func process(_ event: Event) async -> Outcome? {
        if let outcome = await handle(event) { return outcome }
        render()
        return nil
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
        case .chat(let update):
            await show(update)
        case .reply(let reply):
            append(transcript.lines(for: reply))
        case .query(let target):
            focusQuery()
            append(transcript.query(target))
        case .help:
            append(transcript.help())
        case .history(let entries, let key):
            var target = buffers.list.firstIndex { $0.key == key }
            if target == nil, case .room(let room) = key { target = buffers.position(of: key, room: room) }
            append(TerminalTranscript.history(entries), to: target)
        case .clear:
            screen.clear()
        case .resize:
            buffers.resize(TerminalDevice.size())
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

    /// Files each event in its buffer: a private message under its member, a room's
    /// event under its room, the connection's in the buffer shown.
    private func show(_ update: ClientUpdate) async {
        let event = update.event
        var target = buffers.index
        if case .message(let message) = event, message.isPrivate, let room = update.room,
           let member = message.isOwn ? message.to : message.from {
            target = buffers.position(of: .peer(member.id), room: room, member: member)
        } else if let room = update.room {
            target = buffers.position(of: .room(room), room: room)
        }
        switch event {
        case .connected(_, let trust, let me):
            connection = .exchangingKeys
            leaving = nil
            farewell = nil
            for position in buffers.list.indices { buffers[position].safetyCode = nil }
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
            buffers[target].safetyCode = code
        case .message(let message):
            if !message.isOwn {
                spoken += 1
                lastSpoke[message.from.nick] = spoken
                let highlight = message.isPrivate || transcript.me.map({ TerminalTranscript.mentions(message.text, $0.nick) }) == true
                if highlight { alerts.alert() }
                // Activity elsewhere is counted on the buffer list, never shown in place of this buffer.
                if target != buffers.index {
                    buffers[target].unread += 1
                    if highlight { buffers[target].highlighted = true }
                }
            }
        case .delivery(let id, let acknowledged, let pending):
            buffers[target].screen.mark(id, with: transcript.deliveryMark(acknowledged: acknowledged.count, recipients: acknowledged.count + pending.count))
        case .disconnected(let reason):
            if leaving == nil { farewell = "catroom: disconnected: \(reason)" }
            connection = leaving ?? .disconnected
        case .reconnecting(let seconds, _, _):
            connection = .reconnecting(Int(seconds.rounded(.up)))
        default:
            break
        }
        let lines = transcript.lines(for: event, expected: leaving != nil)
        append(lines, to: target)
        // A `/msg` typed elsewhere is shown where it was typed too, as weechat does.
        if case .message(let message) = event, message.isOwn, target != buffers.index { append(lines) }
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
        let room = buffers.current.room
        transcript.members = await client.members(in: room)
        if let me = await client.me(in: room) { transcript.me = me }
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
        case .up: editor.historyPrevious()
        case .down: editor.historyNext()
        case .control("n"), .altRight: await step(forward: true)
        case .control("p"), .altLeft: await step(forward: false)
        case .alt(let digit) where ("1"..."9").contains(digit): await focus(Int(String(digit)).map { $0 - 1 } ?? 0)
        case .pageUp: screen.scrollPage(up: true)
        case .pageDown: screen.scrollPage(up: false)
        case .altHome: screen.scrollToTop()
        case .altEnd: screen.scrollToBottom()
        case .control("u"): editor.killToStart()
        case .control("k"): editor.killToEnd()
        case .control("w"), .altBackspace: editor.killWordBackward()
        case .alt("d"): editor.killWordForward()
        case .control("y"): editor.yank()
        case .control("l"): display.invalidate()
        case .control("r"):
            if let lastSearch { search(lastSearch) }
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
        let parsed = Command.parse(line)
        if case .search(let text) = parsed {
            search(text)
            return nil
        }
        screen.scrollToBottom()
        guard var command = parsed else { return nil }
        let shown = buffers.current
        switch command {
        case .quit:
            // Leaving waits for the server; never longer than this.
            TerminalDevice.exitAfter(seconds: 3)
        case .buffer(let typed):
            guard let position = buffers.find(typed) else {
                append(transcript.lines(for: .error("no buffer \(typed): Alt-1..9 or /buffer <number|name>")))
                return nil
            }
            await focus(position)
            return nil
        case .close where shown.member != nil:
            // A private buffer closes here; its member and sessions stay.
            buffers.close(buffers.index, then: .room(shown.room))
            await focus(buffers.index)
            return nil
        case .close:
            command = .part
        default:
            break
        }
        // The last room takes the connection down with it: its end is expected.
        let lastRoom = command == .part && (session.client?.rooms.count ?? 0) <= 1
        if lastRoom, session.client != nil, [.connecting, .exchangingKeys, .ready].contains(connection) { leaving = .left }
        guard await session.handle(command == .part ? "/part" : line) else { return .quit }
        switch command {
        case .part where lastRoom:
            connection = .left
            trustWarning = nil
            transcript.me = nil
            transcript.members = []
        case .part:
            if let position = buffers.list.firstIndex(where: { $0.key == .room(shown.room) }) {
                buffers.close(position, then: session.currentRoom.map { .room($0) })
            }
            await focus(buffers.index)
        case .join:
            if session.client == nil || connection == .left { connection = .connecting }
            if let room = session.currentRoom { await focus(buffers.position(of: .room(room), room: room)) }
        default:
            await refreshMembers()
        }
        return nil
    }

    /// Scrolls this buffer back to the newest line with `text` above the last match.
    private func search(_ text: String) {
        lastSearch = text
        if !screen.search(text) {
            append(transcript.lines(for: .error("no line with \(text) further up in this buffer")))
        }
    }

    /// Shows the buffer at `position`; plain lines and commands go to its room, or its member.
    private func focus(_ position: Int) async {
        guard buffers.list.indices.contains(position) else { return }
        buffers.show(position)
        session.focus(room: buffers.current.room, query: buffers.current.member)
        await refreshMembers()
    }

    private func step(forward: Bool) async {
        buffers.step(forward: forward)
        await focus(buffers.index)
    }

    /// `/query` opened a private chat, or ended one: its buffer, or its room's, is shown.
    private func focusQuery() {
        let room = session.currentRoom ?? buffers.current.room
        let position = session.queryTarget.map { buffers.position(of: .peer($0.id), room: room, member: $0) }
            ?? buffers.position(of: .room(buffers.current.room), room: buffers.current.room)
        buffers.show(position)
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

    private func append(_ lines: [TerminalLine], to position: Int? = nil) {
        let time = clock.string(from: Date())
        for line in lines { buffers[position ?? buffers.index].screen.append(line, time: time) }
    }

    private func render() {
        guard !suspended else { return }
        if repaintsEverything { display.invalidate() }
        screen.status = statusLine()
        screen.prompt = prompt()
        // Read first: an access to the buffer still open during `frame` would make it copy the scrollback.
        let editor = self.editor
        let frame = screen.frame(editor: editor)
        write(alerts.take() + display.update(to: frame, columns: screen.size.columns))
    }

    /// The buffer list (with several), room, members (verified, without keys), safety
    /// code, query, connection, trust; when the whole line does not fit, the first two
    /// groups of the code, then the room's short name, then no code, and last the
    /// buffer list without names, rather than losing the state or a warning.
    private func statusLine() -> [TerminalSpan] {
        let address = buffers.current.room
        let name = String(address.prefix { $0 != "@" })
        let short = safetyCode.map { $0.split(separator: " ").prefix(2).joined(separator: " ") + (transcript.unicode ? "…" : "...") }
        let choices = [(address, safetyCode), (address, short), (name, short), (name, nil)]
        let list = bufferList(named: true)
        let lines = choices.map { list + statusLine(room: $0, safety: $1) } + [bufferList(named: false) + statusLine(room: name, safety: nil)]
        return lines.first { TerminalText.width($0.map(\.text).joined()) <= screen.size.columns } ?? lines[lines.count - 1]
    }

    /// `1:lobby 2:second(3) 3:→bob(1)!`: each buffer's number, name, unread count and a
    /// `!` for a mention or private message; the one shown in bold. Nothing with one buffer.
    private func bufferList(named: Bool) -> [TerminalSpan] {
        guard buffers.list.count > 1 else { return [] }
        var spans = [TerminalSpan(" ")]
        for (position, buffer) in buffers.list.enumerated() {
            let arrow = buffer.member == nil ? "" : transcript.arrow
            var text = "\(position + 1)" + (named || position == buffers.index ? ":" + arrow + buffer.name : "")
            if buffer.unread > 0 { text += "(\(buffer.unread))" }
            if buffer.highlighted { text += "!" }
            spans += [TerminalSpan(text, position == buffers.index || buffer.highlighted ? TerminalTranscript.bold : .plain), TerminalSpan(" ")]
        }
        return spans + [TerminalSpan(transcript.unicode ? "│" : "|")]
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
        return [TerminalSpan("[\(buffers.current.name)]", TerminalTranscript.bold), TerminalSpan(" ")]
    }
}
