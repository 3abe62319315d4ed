import CatroomClient
import Foundation

/// How events and replies read in the scrollback: the wording of `LineOutput`, styled.
/// Nicks in their identity colour (your own in bold), private messages in magenta,
/// actions in italics, warnings in yellow and errors in red behind a reversed `!!` so
/// that neither can pass unnoticed.
struct TerminalTranscript {
    let palette: TerminalPalette
    /// Whether the locale is UTF-8 (else ASCII stands in for ✓ and →).
    let unicode: Bool
    var me: MemberInfo?
    var members: [MemberInfo] = []

    init(palette: TerminalPalette, unicode: Bool) {
        self.palette = palette
        self.unicode = unicode
    }

    static func localeIsUTF8(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        let locale = [environment["LC_ALL"], environment["LC_CTYPE"], environment["LANG"]].compactMap { $0 }.first { !$0.isEmpty } ?? ""
        return locale.lowercased().replacingOccurrences(of: "-", with: "").contains("utf8")
    }

    var check: String { unicode ? "✓" : "+" }
    var arrow: String { unicode ? "→" : "->" }

    // MARK: - Styles

    static let dim = TerminalStyle.plain.with { $0.dim = true }
    static let bold = TerminalStyle.plain.with { $0.bold = true }
    static let notice = TerminalStyle(color: TerminalPalette.cyan)
    static let warning = TerminalStyle(color: TerminalPalette.yellow, bold: true)
    static let error = TerminalStyle(color: TerminalPalette.red, bold: true)
    static let privateChat = TerminalStyle(color: TerminalPalette.magenta)
    static let verified = TerminalStyle(color: TerminalPalette.green, bold: true)

    private static let noticeMarker = TerminalSpan("-- ", notice)
    private static let warningMarker = TerminalSpan("!!", warning.with { $0.reverse = true })
    private static let errorMarker = TerminalSpan("!!", error.with { $0.reverse = true })

    static func noticeLine(_ body: [TerminalSpan]) -> TerminalLine { TerminalLine(prefix: [noticeMarker], body) }
    static func noticeLine(_ text: String) -> TerminalLine { noticeLine([TerminalSpan(text)]) }
    static func warningLine(_ body: [TerminalSpan]) -> TerminalLine { TerminalLine(prefix: [warningMarker, TerminalSpan(" ")], body) }
    static func warningLine(_ text: String) -> TerminalLine { warningLine([TerminalSpan(text, warning)]) }
    static func errorLine(_ text: String) -> TerminalLine { TerminalLine(prefix: [errorMarker, TerminalSpan(" ")], [TerminalSpan(text, error)]) }

    /// A nick in its member's colour (bold for yourself); the id picks the colour.
    func nick(_ name: String, id: String?) -> TerminalSpan {
        if let me, id == me.id || (id == nil && name == me.nick) { return TerminalSpan(name, Self.bold) }
        let key = id ?? members.first { $0.nick == name }?.id ?? name
        return TerminalSpan(name, TerminalStyle(color: palette.color(for: key)))
    }

    func nick(_ member: MemberInfo) -> TerminalSpan { nick(member.nick, id: member.id) }

    private func short(_ member: MemberInfo) -> String { member.shortFingerprint.isEmpty ? "?" : member.shortFingerprint }

    // MARK: - Events

    /// `expected`: a disconnection the user asked for (/part, /join).
    func lines(for event: ClientEvent, expected: Bool = false) -> [TerminalLine] {
        switch event {
        case .connected(let server, let trust, let me):
            let pin: TerminalSpan = switch trust {
            case .recorded(let fingerprint): TerminalSpan("certificate pinned on first use: \(fingerprint)")
            case .matched: TerminalSpan("certificate matches the pinned fingerprint")
            case .unchecked: TerminalSpan("certificate NOT checked (--insecure)", Self.warning)
            case .plaintext: TerminalSpan("WITHOUT TLS (--plaintext)", Self.warning)
            }
            return [Self.noticeLine([
                TerminalSpan("connected to \(server), "), pin, TerminalSpan("; you are "), nick(me), TerminalSpan(" (\(me.shortFingerprint))"),
            ])]
        case .joined(let room, let occupants):
            let others = occupants == 0 ? "nobody else is here" : "exchanging keys with \(occupants) member\(occupants == 1 ? "" : "s")"
            return [Self.noticeLine("joined \(room); \(others)")]
        case .ready(let count):
            return count == 0 ? [] : [Self.noticeLine("encrypted to all \(count) member\(count == 1 ? "" : "s")")]
        case .memberJoined(let member) where member.invited == false, .memberPresent(let member) where member.invited == false,
             .memberReconnected(let member) where member.invited == false:
            return LineOutput.describe(event).map(Self.described) ?? []
        case .memberJoined(let member), .memberReconnected(let member):
            let what = if case .memberJoined = event { "joined" } else { "reconnected, with the same key" }
            var body = [nick(member), TerminalSpan(" (\(short(member))) \(what)")]
            if member.verified { body.append(TerminalSpan(verified(member.verifiedAt), Self.verified)) }
            return [TerminalLine(prefix: [TerminalSpan("--> ", TerminalStyle(color: TerminalPalette.green))], body)]
        case .memberPending(let id, let waited):
            guard waited > 0 else { return [] }
            return [Self.warningLine([
                TerminalSpan(String(id.prefix(8)), palette.colors ? TerminalStyle(color: palette.color(for: id), bold: true) : Self.warning),
                TerminalSpan(" is in the room but has not exchanged keys after \(waited) s: it is sent nothing (a silent reader?)", Self.warning),
            ])]
        case .memberLeft(let member):
            return [TerminalLine(prefix: [TerminalSpan("<-- ", TerminalStyle(color: TerminalPalette.red))], [nick(member), TerminalSpan(" left")])]
        case .nickChanged(_, let member) where member.id == me?.id:
            return [Self.noticeLine([TerminalSpan("you are now known as "), nick(member)])]
        case .nickChanged(let old, let member):
            return [Self.noticeLine([nick(old, id: member.id), TerminalSpan(" is now known as "), nick(member)])]
        case .message(let message):
            return [line(for: message)]
        case .delivery, .safetyCode:
            // Shown as a mark on the message, and on the status line.
            return []
        case .undecryptable(let from, let reason):
            return [Self.warningLine([
                TerminalSpan("a message from ", Self.warning), nick(from, id: nil),
                TerminalSpan(" could not be read: \(reason)", Self.warning),
            ])]
        case .divergence(let sender, _, let witness, let text):
            var body = [TerminalSpan("split view: \(witness) received \(sender)'s ", Self.warning)]
            if let text {
                body += [TerminalSpan("“", Self.warning)] + Self.messageText(text, Self.warning, separator: TerminalSpan(" | ", Self.warning))
                    + [TerminalSpan("”", Self.warning)]
            } else {
                body.append(TerminalSpan("a message", Self.warning))
            }
            body.append(TerminalSpan(" in another version than you did (the sender sent different versions, or the server changed them)", Self.warning))
            return [Self.warningLine(body)]
        case .topic(let topic):
            let parts = LineOutput.topicParts(topic)
            return [Self.noticeLine([TerminalSpan(parts.before)] + (parts.text.map { [TerminalSpan($0, isolated: true)] } ?? []) + [TerminalSpan(parts.after)])]
        case .error(let text):
            return [Self.errorLine(text)]
        case .disconnected(let reason):
            if expected { return [Self.noticeLine(reason)] }
            return [Self.errorLine("disconnected: \(reason)")]
        default:
            // Notices, and any event added later: the line mode's text, so nothing goes unseen.
            return LineOutput.describe(event).map(Self.described) ?? []
        }
    }

    /// A `LineOutput` text, its `--` or `!!` marker styled.
    static func described(_ text: String) -> [TerminalLine] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            if line.hasPrefix("!! ") { return warningLine(String(line.dropFirst(3))) }
            if line.hasPrefix("-- ") { return noticeLine(String(line.dropFirst(3))) }
            return TerminalLine([TerminalSpan(String(line))])
        }
    }

    private func line(for message: ChatMessage) -> TerminalLine {
        var prefix: [TerminalSpan] = []
        var textStyle = TerminalStyle.plain
        if message.isPrivate {
            let tag = message.isOwn ? (message.to.map { "[private \(arrow) \($0.nick)]" } ?? "[private]") : "[private]"
            prefix.append(TerminalSpan(tag + " ", Self.privateChat.with { $0.bold = true }))
            textStyle = Self.privateChat
        }
        if message.from.invited == false { prefix.append(TerminalSpan("[not invited] ", Self.warning)) }
        if message.isAction {
            prefix += [TerminalSpan(" * ", Self.bold), nick(message.from), TerminalSpan(" ")]
            textStyle.italic = true
        } else {
            prefix += [TerminalSpan("<", Self.dim), nick(message.from), TerminalSpan("> ", Self.dim)]
        }
        // Before the name, where no chosen name can reach.
        if message.from.verified, !message.isOwn { prefix.insert(TerminalSpan("\(check) ", Self.verified), at: 0) }
        if !message.isOwn, let me, Self.mentions(message.text, me.nick) { textStyle.bold = true }
        var body = Self.messageText(message.text, textStyle, separator: Self.continuation)
        if !message.missingRecipients.isEmpty {
            body.append(TerminalSpan("  [not sent to: \(message.missingRecipients.joined(separator: ", "))]", Self.warning))
        }
        if !message.unknownRecipients.isEmpty {
            body.append(TerminalSpan("  [!! also encrypted to unknown: \(message.unknownRecipients.joined(separator: ", "))]", Self.warning))
        }
        var line = TerminalLine(prefix: prefix, body)
        if message.isOwn, !message.isPrivate, !message.id.isEmpty { line.messageID = message.id }
        return line
    }

    /// Marks each further row of a message, as `LineOutput.continuation` does.
    private static let continuation = TerminalSpan("\n| ", dim)

    /// A member's text, each line isolated for bidi, the lines joined by `separator`.
    static func messageText(_ text: String, _ style: TerminalStyle, separator: TerminalSpan) -> [TerminalSpan] {
        var spans: [TerminalSpan] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if !spans.isEmpty { spans.append(separator) }
            spans.append(TerminalSpan(String(line), style, isolated: true))
        }
        return spans
    }

    /// The mark on one's own room message: how many of its recipients acknowledged it (CR-0006 §5.8).
    func deliveryMark(acknowledged: Int, recipients: Int) -> TerminalSpan {
        TerminalSpan("  \(check) \(acknowledged)/\(recipients)", acknowledged == recipients ? Self.dim : Self.warning.with { $0.bold = false })
    }

    /// Whether `text` names `nick` as a word of its own (any case).
    static func mentions(_ text: String, _ nick: String) -> Bool {
        guard !nick.isEmpty else { return false }
        var searchRange = text.startIndex..<text.endIndex
        while let found = text.range(of: nick, options: .caseInsensitive, range: searchRange) {
            let before = found.lowerBound == text.startIndex ? nil : text[text.index(before: found.lowerBound)]
            let after = found.upperBound == text.endIndex ? nil : text[found.upperBound]
            let isWordCharacter: (Character?) -> Bool = { $0.map { $0.isLetter || $0.isNumber } ?? false }
            if !isWordCharacter(before), !isWordCharacter(after) { return true }
            searchRange = found.upperBound..<text.endIndex
        }
        return false
    }

    // MARK: - Replies

    func lines(for reply: CatroomClient.Reply) -> [TerminalLine] {
        switch reply {
        case .none: return []
        case .notice(let text): return [Self.noticeLine(text)]
        case .error(let text): return [Self.errorLine(text)]
        case .members(let me, let others, let safety):
            var lines = [Self.noticeLine("\(others.count + (me == nil ? 0 : 1)) in the room, \(others.filter(\.verified).count) verified")]
            let indent = TerminalSpan("   ")
            if let me {
                lines.append(TerminalLine(prefix: [indent], [nick(me), TerminalSpan(" (\(me.shortFingerprint)) "), TerminalSpan("(you)", Self.dim)]))
            }
            for member in others {
                var body = [nick(member), TerminalSpan(" (\(short(member)))")]
                if !member.ready {
                    body.append(TerminalSpan(" (no key exchange yet)", Self.warning))
                } else if member.invited == false {
                    body.append(TerminalSpan(" NOT INVITED (sent nothing)", Self.warning))
                } else if member.verified {
                    body.append(TerminalSpan(verified(member.verifiedAt), Self.verified))
                }
                lines.append(TerminalLine(prefix: [indent], body))
            }
            if let safety { lines += safetyLines(code: safety, members: others.filter(\.ready).count + 1) }
            return lines
        case .safety(let code, let members):
            return safetyLines(code: code, members: members) + [TerminalLine(prefix: [TerminalSpan("   ")], [TerminalSpan(LineOutput.safetyAdvice)])]
        case .fingerprint(let name, let fingerprint, let verified):
            let own = me.map { $0.nick == name && $0.fingerprint == fingerprint } ?? false
            var lines = [Self.noticeLine(own ? [TerminalSpan("your fingerprint ("), nick(name, id: me?.id), TerminalSpan("):")]
                                             : [TerminalSpan("fingerprint of "), nick(name, id: nil), TerminalSpan(":")])]
            lines.append(TerminalLine(prefix: [TerminalSpan("   ")], [TerminalSpan(fingerprint, Self.bold)]))
            if !verified {
                lines.append(TerminalLine(prefix: [TerminalSpan("   ")], [
                    TerminalSpan("not verified: compare it out of band, then /verify \(name)", Self.warning),
                ]))
            } else if !own {
                lines.append(TerminalLine(prefix: [TerminalSpan("   ")], [TerminalSpan("\(check) verified", Self.verified)]))
            }
            return lines
        case .contacts(let contacts):
            let lines = contacts.map { contact in
                var body = [TerminalSpan(contact.name ?? "(no name)", Self.bold), TerminalSpan(" (\(contact.identity.fingerprint.prefix(8)))")]
                if contact.verified != nil { body.append(TerminalSpan(verified(contact.verified), Self.verified)) }
                body.append(TerminalSpan(", last seen \(LineOutput.day(contact.lastSeen))", Self.dim))
                return TerminalLine(prefix: [TerminalSpan("   ")], body)
            }
            let verifiedCount = contacts.filter { $0.verified != nil }.count
            return [Self.noticeLine("\(contacts.count) contact\(contacts.count == 1 ? "" : "s") in your profile, \(verifiedCount) verified")] + lines
        }
    }

    /// ` ✓ verified`, with the day when a profile keeps it: ` ✓ verified 2026-12-01`.
    private func verified(_ date: Date?) -> String {
        " \(check) verified" + (date.map { " " + LineOutput.day($0) } ?? "")
    }

    private func safetyLines(code: String, members: Int) -> [TerminalLine] {
        [Self.noticeLine("safety code (\(LineOutput.members(members))):"), TerminalLine(prefix: [TerminalSpan("   ")], [TerminalSpan(code, Self.bold)])]
    }

    // MARK: - The front end's own lines

    func query(_ target: String?) -> [TerminalLine] {
        [Self.noticeLine(target.map {
            [TerminalSpan("plain lines now go privately to "), nick($0, id: nil), TerminalSpan("; /query alone returns to the room")]
        } ?? [TerminalSpan("plain lines go to the room")])]
    }

    static let keys: [(String, String)] = [
        ("Enter", "send the line"),
        ("Alt-Enter", "a new line in the message (a paste keeps its lines)"),
        ("Tab, Shift-Tab", "complete a command after /, or a nick (again: the next one)"),
        ("Up, Down", "walk the input history"),
        ("PgUp, PgDn", "scroll the messages"),
        ("Left, Right", "move (Ctrl-Left, Ctrl-Right, Alt-B, Alt-F: by word)"),
        ("Home, End", "start and end of the line (also Ctrl-A, Ctrl-E)"),
        ("Ctrl-U, Ctrl-K", "delete to the start, to the end of the line (Ctrl-Y puts it back)"),
        ("Ctrl-W, Alt-D", "delete the word before, after the cursor"),
        ("Ctrl-L", "redraw the screen"),
        ("Ctrl-Z", "suspend (fg resumes)"),
        ("Ctrl-C, Ctrl-D", "leave and exit (Ctrl-D on an empty line)"),
    ]

    func help() -> [TerminalLine] {
        var lines = [Self.noticeLine("commands (//text sends a line starting with /):")]
        for command in Command.all {
            lines.append(TerminalLine(prefix: [TerminalSpan("   "), TerminalSpan(command.usage.padding(toLength: 22, withPad: " ", startingAt: 0), Self.bold)], [
                TerminalSpan(command.summary),
            ]))
        }
        lines.append(Self.noticeLine("keys:"))
        for (keys, meaning) in Self.keys {
            lines.append(TerminalLine(prefix: [TerminalSpan("   "), TerminalSpan(keys.padding(toLength: 22, withPad: " ", startingAt: 0), Self.bold)], [
                TerminalSpan(meaning),
            ]))
        }
        return lines
    }
}
