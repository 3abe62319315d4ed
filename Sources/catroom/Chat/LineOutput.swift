import CatroomClient
import CatroomProfile
import Foundation

/// Plain line mode, when standard input or output is not a terminal: one line per
/// event, timestamped, no escape sequences.
final class LineOutput: ChatOutput, @unchecked Sendable {
    private let lock = NSLock()
    private let time: DateFormatter = {
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm"
        return formatter
    }()

    /// This member's account id, to tell its own nick changes from others'.
    private var me: String?
    /// The first room's events are shown as they are; another room's start with its name.
    private var firstRoom: String?

    func show(_ update: ClientUpdate) {
        let event = update.event
        let tag = lock.withLock { () -> String in
            if firstRoom == nil { firstRoom = update.room }
            guard let room = update.room, room != firstRoom else { return "" }
            return "[\(room.prefix { $0 != "@" })] "
        }
        switch event {
        case .connected(_, _, let member): lock.withLock { me = member.id }
        case .nickChanged(_, let member) where member.id == lock.withLock({ me }): return print(tag + "-- you are now known as \(member.nick)")
        default: break
        }
        if let line = Self.describe(event) { print(tag + line) }
    }

    func show(_ reply: CatroomClient.Reply, to command: Command) {
        if let line = Self.describe(reply) { print(line) }
    }

    func showQuery(_ target: String?) {
        print(target.map { "-- plain lines now go privately to \($0); /query alone returns to the room" } ?? "-- plain lines go to the room")
    }

    func showHistory(_ entries: [HistoryEntry], of conversation: Conversation, named name: String) {
        print(HistoryText.earlier)
        // Each with its own time, not the time of showing.
        lock.withLock { for entry in entries { FileHandle.standardOutput.write(Data("\(HistoryText.line(entry))\n".utf8)) } }
        print(HistoryText.now)
    }

    func showHelp() {
        for command in Command.all { print("  \(command.usage.padding(toLength: 22, withPad: " ", startingAt: 0)) \(command.summary)") }
    }

    private func print(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        FileHandle.standardOutput.write(Data("[\(time.string(from: Date()))] \(line)\n".utf8))
    }

    /// The text of an event, shared with the terminal UI.
    static func describe(_ event: ClientEvent) -> String? {
        switch event {
        case .connected(let server, let trust, let me):
            let pin = switch trust {
            case .recorded(let fingerprint): "certificate pinned on first use: \(fingerprint)"
            case .matched: "certificate matches the pinned fingerprint"
            case .unchecked: "certificate NOT checked (--insecure)"
            case .plaintext: "WITHOUT TLS (--plaintext)"
            }
            return "-- connected to \(server), \(pin); you are \(me.nick) (\(me.shortFingerprint))"
        case .joined(let room, let occupants):
            return "-- joined \(room); \(occupants == 0 ? "nobody else is here" : "exchanging keys with \(occupants) member\(occupants == 1 ? "" : "s")")"
        case .ready(let members): return members == 0 ? nil : "-- encrypted to all \(members) member\(members == 1 ? "" : "s")"
        case .memberJoined(let member) where member.invited == false, .memberPresent(let member) where member.invited == false,
             .memberReconnected(let member) where member.invited == false:
            return "!! \(member.nick) (\(member.shortFingerprint)) is here WITHOUT proving the invite secret: it is sent nothing"
                + " (it was not invited, or the server substituted its keys)"
        case .memberJoined(let member): return "-- \(member.nick) (\(member.shortFingerprint)) joined"
        case .memberPresent(let member): return "-- \(member.nick) (\(member.shortFingerprint)) is here\(member.verified ? ", verified" : "")"
        case .memberReconnected(let member):
            return "-- \(member.nick) (\(member.shortFingerprint)) reconnected, with the same key\(member.verified ? ": still verified" : "")"
        case .nameReused(let name, let previous, let member):
            return "!! \(name) is back with a DIFFERENT KEY: it may be someone else using the name. Before, \(previous);"
                + " now \(member.fingerprint), shown as \(member.nick)"
        case .nameRefused(let member, let reason): return "!! \(member.nick) chose a name that was refused: \(reason)"
        case .memberPending(let id, let waited):
            return waited == 0 ? nil : "!! \(id.prefix(8)) is in the room but has not exchanged keys after \(waited) s: it is sent nothing (a silent reader?)"
        case .memberLeft(let member): return "-- \(member.nick) left"
        case .nickChanged(let old, let member): return "-- \(old) is now known as \(member.nick)"
        case .message(let message):
            let text = isolated(message.text).joined(separator: "\n" + continuation)
            var line = message.isAction ? "* \(message.from.nick) \(text)" : "<\(message.from.nick)> \(text)"
            // Outside the brackets, where no chosen name can reach.
            if message.from.verified, !message.isOwn { line = "[verified] " + line }
            if message.isPrivate { line = "[private] " + line }
            if message.from.invited == false { line = "[not invited] " + line }
            if !message.missingRecipients.isEmpty { line += "  [not sent to: \(message.missingRecipients.joined(separator: ", "))]" }
            if !message.unknownRecipients.isEmpty { line += "  [!! also encrypted to unknown: \(message.unknownRecipients.joined(separator: ", "))]" }
            return line
        case .undecryptable(let from, let reason): return "!! a message from \(from) could not be read: \(reason)"
        case .duplicate(let from): return "-- a message from \(from) arrived again; shown once"
        case .delivery: return nil
        case .divergence(let sender, _, let witness, let text):
            let which = text.map { "“\(isolated($0).joined(separator: " \(continuation)"))”" } ?? "a message"
            return "!! split view: \(witness) received \(sender)'s \(which) in another version than you did"
                + " (the sender sent different versions, or the server changed them)"
        case .missing(let from, let count):
            return "!! \(count) message\(count == 1 ? "" : "s") from \(from) did not reach you (withheld or lost on the way)"
        case .safetyCode(let code, let members): return "-- safety code (\(Self.members(members))): \(code)"
        case .notice(let text): return "-- \(text)"
        case .error(let text): return "!! \(text)"
        case .failed(let failure): return "!! \(failure)"
        case .disconnected(let reason): return "-- disconnected: \(reason)"
        case .reconnecting(let seconds, let attempt, _):
            return "-- reconnecting in \(Int(seconds.rounded(.up))) s (attempt \(attempt))"
        case .notSent(let text, let reason): return "!! not sent (\(reason)): \(text)"
        case .topic(let topic):
            let parts = Self.topicParts(topic)
            return "-- " + parts.before + (parts.text.map { isolated($0).joined() } ?? "") + parts.after
        case .unconfirmed(let text): return "!! the connection dropped before the room confirmed this; it may not have reached everyone: \(text)"
        }
    }

    /// What starts each further line of a message: no line of a member's text can pass
    /// for a line of its own, such as another member's message.
    static let continuation = "  | "

    /// Each line of a member's text between FSI and PDI, so that right-to-left text in
    /// it cannot reorder the rest of the line (Unicode bidi isolation).
    /// A topic event in words around the topic's text (nil when cleared), for both front ends.
    static func topicParts(_ topic: TopicInfo) -> (before: String, text: String?, after: String) {
        let source = topic.reportedBy.map { ", as \($0) reports it" } ?? ""
        switch (topic.text.isEmpty, topic.reportedBy == nil) {
        case (true, true): return ("\(topic.setBy) cleared the topic", nil, "")
        case (true, false): return ("no topic (cleared by \(topic.setBy)\(source))", nil, "")
        case (false, true): return ("\(topic.setBy) set the topic: ", topic.text, "")
        case (false, false): return ("topic: ", topic.text, " (set by \(topic.setBy)\(source))")
        }
    }

    static func isolated(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { "\u{2068}\($0)\u{2069}" }
    }

    /// What `/safety` adds to the code, in every front end.
    static let safetyAdvice = "compare it once with every member out of band (in person, on a call): "
        + "the same code means the same members with the same keys. It changes whenever someone joins, leaves or changes key."

    /// "3 members with keys", counting oneself: whom the safety code covers.
    static func members(_ count: Int) -> String { "\(count) member\(count == 1 ? "" : "s") with keys" }

    static func describe(_ reply: CatroomClient.Reply) -> String? {
        switch reply {
        case .none: return nil
        case .notice(let text): return "-- \(text)"
        case .error(let text): return "!! \(text)"
        case .members(let me, let others, let safety):
            let verified = others.filter(\.verified).count
            var lines = ["-- \(others.count + 1) in the room, \(verified) verified"]
            if let me { lines.append("   \(me.nick) (\(me.shortFingerprint)) (you)") }
            for member in others {
                let verified = member.verified ? " verified" + (member.verifiedAt.map { " " + Self.day($0) } ?? "") : ""
                var state = member.ready ? verified : " (no key exchange yet)"
                if member.ready, member.invited == false { state += " NOT INVITED (sent nothing)" }
                lines.append("   \(member.nick) (\(member.shortFingerprint.isEmpty ? "?" : member.shortFingerprint))\(state)")
            }
            if let safety { lines.append("-- safety code (\(Self.members(others.filter(\.ready).count + 1))): \(safety)") }
            return lines.joined(separator: "\n")
        case .safety(let code, let members):
            return "-- safety code (\(Self.members(members))): \(code)\n-- \(safetyAdvice)"
        case .fingerprint(let nick, let fingerprint, let verified):
            return "-- \(nick): \(fingerprint)\(verified ? "" : "  (not verified: compare out of band, then /verify \(nick))")"
        case .contacts(let contacts):
            return (["-- \(contacts.count) contact\(contacts.count == 1 ? "" : "s") in your profile, \(contacts.filter { $0.verified != nil }.count) verified"]
                + contacts.map { "   \(contactLine($0))" }).joined(separator: "\n")
        }
    }

    /// A contact as `/contacts` lists it: `alice (1a2b3c4d) verified 2026-12-01, last seen 2026-12-05`.
    static func contactLine(_ contact: KnownMembers.Contact) -> String {
        let verified = contact.verified.map { " verified \(day($0))," } ?? ""
        return "\(contact.name ?? "(no name)") (\(contact.identity.fingerprint.prefix(8)))\(verified) last seen \(day(contact.lastSeen))"
    }

    /// A date as the user reads it: `2026-12-01`, in local time.
    static func day(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: .current).year().month().day())
    }
}
