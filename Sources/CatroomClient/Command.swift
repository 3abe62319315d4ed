/// A line typed by the user (or sent by a script in `--json` mode), parsed.
public enum Command: Equatable, Sendable {
    /// Plain text: to the room, or to the member of an open `/query`.
    case say(String)
    case action(String)
    case message(to: String, text: String)
    /// Opens a side chat with a member (plain lines go there), or closes it with nil.
    case query(String?)
    case nick(String)
    /// Shows the room topic (nil), sets it, or clears it (an empty text) (CR-0006 §5.11).
    case topic(String?)
    case who
    case fingerprint(String?)
    case verify(String)
    /// Hides a member's messages, by its key (nil: lists whom); `unignore` shows them again.
    case ignore(String?)
    case unignore(String)
    /// The contacts a profile keeps (CR-0006 §5.10).
    case contacts
    /// Removes a contact from the profile: a name, `name#fingerprint` or `#fingerprint`.
    case forget(String)
    /// The room safety code in full (CR-0007).
    case safety
    /// Who acknowledged this member's last room message (CR-0006 §5.8).
    case info
    /// The join command with this room's invite secret (CR-0008).
    case invite
    case part
    /// Joins one more room: plain lines and commands go there next.
    case join(String)
    /// Switches to a room (or a full-screen buffer) by number or name.
    case buffer(String)
    /// Closes the current buffer: ends a `/query`, or leaves the room.
    case close
    case quit
    /// Empties the full-screen view's scrollback; nothing is sent.
    case clear
    /// Scrolls the full-screen view back to a line containing the text.
    case search(String)
    /// All commands (nil), or one in detail.
    case help(String?)
    /// A command that needs arguments it did not get, with the usage to show.
    case usage(String)
    case unknown(String)

    /// Every command with its usage, for `/help` and tab completion.
    public static let all: [(name: String, usage: String, summary: String)] = [
        ("help", "/help [command]", "list the commands, or say what one does"),
        ("who", "/who", "list the members, with short fingerprints, who is verified, and the safety code"),
        ("msg", "/msg <nick> <text>", "send a private message (a side chat) to one member"),
        ("query", "/query [nick]", "send plain lines to one member; /query alone returns to the room"),
        ("me", "/me <action>", "say what you do"),
        ("nick", "/nick <name>", "change your display name"),
        ("topic", "/topic [text | -delete]", "show the room topic, set it for everyone (end-to-end encrypted), or clear it"),
        ("fingerprint", "/fingerprint [nick]", "show your own or a member's full fingerprint"),
        ("verify", "/verify <nick>", "mark a member verified after comparing fingerprints out of band"),
        ("ignore", "/ignore [nick]", "hide a member's messages, by its key, whatever name it takes; alone, list whom you ignore"),
        ("unignore", "/unignore <nick>", "show a member's messages again"),
        ("contacts", "/contacts", "list the contacts your profile keeps, who is verified and since when (needs --profile)"),
        ("forget", "/forget <nick|#fingerprint>", "remove a contact, its verification and your private messages with it from your profile (needs --profile)"),
        ("safety", "/safety", "show the room safety code: compare it once with everyone, out of band"),
        ("info", "/info", "show who has acknowledged your last room message"),
        ("invite", "/invite", "show the join command with this room's invite secret, to send to someone you invite"),
        ("part", "/part", "leave this room (the others stay joined)"),
        ("join", "/join <room>", "join another room as well, over the same connection and with the same identity key"),
        ("buffer", "/buffer <n|name>", "switch to a room or private chat by its number or name (Alt-1..9, Alt-←/→ and Ctrl-N/P in the full-screen view)"),
        ("close", "/close", "close this buffer: end a private chat, or leave the room"),
        ("clear", "/clear", "empty the scrollback of the full-screen view (nothing is sent or deleted elsewhere)"),
        ("search", "/search <text>", "scroll this buffer back to the newest line with the text; again (or Ctrl-R) for the one before"),
        ("quit", "/quit", "leave and exit (Ctrl-D and Ctrl-C do the same)"),
    ]

    /// The command's name as typed (`msg`, `nick`), `say` for a plain line: what JSON
    /// mode's answers name.
    public var name: String {
        switch self {
        case .say: "say"
        case .action: "me"
        case .message: "msg"
        case .query: "query"
        case .nick: "nick"
        case .topic: "topic"
        case .who: "who"
        case .fingerprint: "fingerprint"
        case .verify: "verify"
        case .ignore: "ignore"
        case .unignore: "unignore"
        case .contacts: "contacts"
        case .forget: "forget"
        case .safety: "safety"
        case .info: "info"
        case .invite: "invite"
        case .part: "part"
        case .join: "join"
        case .buffer: "buffer"
        case .close: "close"
        case .quit: "quit"
        case .clear: "clear"
        case .search: "search"
        case .help: "help"
        case .usage(let usage): String(usage.dropFirst().prefix { $0 != " " })
        case .unknown(let name): name
        }
    }

    /// What `/help name` says: the usage and what it does; nil for no such command.
    public static func help(for name: String) -> String? {
        all.first { $0.name == name }.map { "\($0.usage): \($0.summary)" }
    }

    /// nil for an empty line.
    public static func parse(_ line: String) -> Command? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return nil }
        // "//text" sends "/text" literally.
        if trimmed.hasPrefix("//") { return .say(String(trimmed.dropFirst())) }
        guard trimmed.hasPrefix("/") else { return .say(line) }
        let parts = trimmed.dropFirst().split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        let name = parts.first.map { String($0).lowercased() } ?? ""
        let rest = parts.count > 1 ? String(parts[1]).trimmingCharacters(in: .whitespaces) : ""
        let usage = all.first { $0.name == name }?.usage ?? ""
        switch name {
        case "help": return .help(rest.isEmpty ? nil : String(rest.drop { $0 == "/" }).lowercased())
        case "who": return .who
        case "me": return rest.isEmpty ? .usage(usage) : .action(rest)
        case "msg":
            let pieces = rest.split(separator: " ", maxSplits: 1)
            guard pieces.count == 2 else { return .usage(usage) }
            return .message(to: String(pieces[0]), text: String(pieces[1]))
        case "query": return .query(rest.isEmpty ? nil : rest)
        case "nick": return rest.isEmpty ? .usage(usage) : .nick(rest)
        case "topic": return .topic(rest.isEmpty ? nil : rest == "-delete" ? "" : rest)
        case "fingerprint": return .fingerprint(rest.isEmpty ? nil : rest)
        case "verify": return rest.isEmpty ? .usage(usage) : .verify(rest)
        case "ignore": return .ignore(rest.isEmpty ? nil : rest)
        case "unignore": return rest.isEmpty ? .usage(usage) : .unignore(rest)
        case "contacts": return .contacts
        case "forget": return rest.isEmpty ? .usage(usage) : .forget(rest)
        case "safety": return .safety
        case "info": return .info
        case "invite": return .invite
        case "part", "leave": return .part
        case "join": return rest.isEmpty ? .usage(usage) : .join(rest)
        case "buffer", "b": return rest.isEmpty ? .usage(usage) : .buffer(rest)
        case "close": return .close
        case "quit", "exit": return .quit
        case "clear": return .clear
        case "search": return rest.isEmpty ? .usage(usage) : .search(rest)
        default: return .unknown(name)
        }
    }
}

/// Commands that the front end carries out for itself.
extension CatroomClient {
    /// The outcome of a command, for the front end to show.
    public enum Reply: Sendable, Equatable {
        case none
        case notice(String)
        /// `/who`: with the room safety code, nil before joining.
        case members(me: MemberInfo?, others: [MemberInfo], safety: String?)
        /// `/safety`: the code and how many members it covers, this one included.
        case safety(code: String, members: Int)
        case fingerprint(nick: String, fingerprint: String, verified: Bool)
        /// `/contacts`: every contact the profile keeps, by name.
        case contacts([KnownMembers.Contact])
        case error(String)
    }

    /// Carries out every command that concerns a room (`query`, `part`, `join`, `quit`
    /// and `help` are the front end's own), in `room` (nil: the first joined).
    /// `queryTarget` is the member an open `/query` resolved: plain lines go to its key.
    public func perform(_ command: Command, in name: String? = nil, queryTarget: MemberInfo? = nil) async -> Reply {
        do {
            let room = try self.room(named: name)
            let name = room.description
            switch command {
            case .say(let text): return try await queued(deliver(.init(room: room, text: text, to: queryTarget.map { .member($0) })))
            case .action(let text): return try await queued(deliver(.init(room: room, text: text, action: true)))
            case .message(let to, let text): return try await queued(deliver(.init(room: room, text: text, to: .named(to))))
            case .nick(let nick): try await changeNick(nick)
            case .who: return .members(me: await me(in: name), others: await members(in: name), safety: await safetyCode(in: name)?.code)
            case .safety:
                guard let safety = await safetyCode(in: name) else { return .error("not in a room yet") }
                return .safety(code: safety.code, members: safety.members)
            case .fingerprint(nil):
                guard let me = await me(in: name) else { return .error("not connected yet") }
                return .fingerprint(nick: me.nick, fingerprint: me.fingerprint, verified: true)
            case .fingerprint(let nick?):
                guard let member = try await member(named: nick, in: name), !member.fingerprint.isEmpty else {
                    return .error("no member called \(nick) with a key")
                }
                return .fingerprint(nick: member.nick, fingerprint: member.fingerprint, verified: member.verified)
            case .verify(let nick):
                guard let member = try await verify(nick, in: name) else { return .error("not connected yet") }
                return .notice("\(member.nick) is now marked verified (\(member.shortFingerprint))")
            case .ignore(nil):
                let ignored = ignoredMembers()
                guard !ignored.isEmpty else { return .notice("you ignore nobody") }
                return .notice("you ignore: " + ignored.map { "\($0.name ?? "unnamed") (\($0.fingerprint.prefix(8)))" }.joined(separator: ", "))
            case .ignore(let nick?):
                guard let member = try await setIgnored(nick, true, in: name) else { return .error("not connected yet") }
                return .notice("\(member.nick)'s messages are hidden now, whatever name it takes (\(member.shortFingerprint)); /unignore \(member.nick) shows them again")
            case .unignore(let nick):
                guard let member = try await setIgnored(nick, false, in: name) else { return .error("not connected yet") }
                return .notice("\(member.nick)'s messages are shown again")
            case .topic(nil):
                guard let topic = await topic(in: name), !topic.text.isEmpty else { return .notice("no topic is set") }
                return .notice("topic: \u{2068}\(topic.text)\u{2069} (set by \(topic.setBy))")
            case .topic(let text?): try await setTopic(text, in: name)
            case .contacts: return contactList()
            case .forget(let typed): return forget(typed)
            case .info:
                guard let delivery = await lastDelivery(in: name) else { return .notice("you have sent no room message yet") }
                let got = delivery.acknowledged.isEmpty ? "nobody yet" : delivery.acknowledged.joined(separator: ", ")
                let pending = delivery.pending.isEmpty ? "" : "; not yet acknowledged by \(delivery.pending.joined(separator: ", "))"
                return .notice("your last message was acknowledged by \(got)\(pending)")
            case .invite:
                guard room == (try? configuration.roomJID()), let command = Invitation.joinCommand(for: configuration, pin: certificatePin) else {
                    return .notice("this room was joined without an invite secret, so nobody is checked: `catroom invite \(room.localpart ?? name)` makes one, and everyone joins with it")
                }
                return .notice("send this to the person you invite, over a channel the server does not control; they add --nick: \(command)")
            case .usage(let usage): return .error("usage: \(usage)")
            case .unknown(let name): return .error("unknown command /\(name): /help lists them")
            case .search: return .error("/search searches the full-screen view's scrollback; here, search your terminal's or the saved output")
            case .query, .part, .join, .buffer, .close, .quit, .help, .clear: return .none
            }
        } catch {
            return .error("\(error)")
        }
        return .none
    }

    private func queued(_ waiting: Int?) -> Reply {
        waiting.map { .notice("not connected: the message goes out once in the room (\($0) waiting)") } ?? .none
    }
}
