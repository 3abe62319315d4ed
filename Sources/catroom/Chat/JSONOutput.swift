import CatroomClient
import CatroomProfile
import Foundation

/// `--json`: one JSON object per line on standard output, for bots and scripts
/// (docs/json-mode.md). Input lines are the same commands a person types.
final class JSONOutput: ChatOutput, @unchecked Sendable {
    /// The version of the events' format (docs/json-mode.md), in the first event, `hello`:
    /// raised when an event or key changes meaning or goes away; new ones do not raise it.
    static let schema = 1

    private let lock = NSLock()
    /// Made once (it is costly to create); not thread-safe, so used under `lock`.
    private let dateFormatter = ISO8601DateFormatter()
    /// This member's account id, to mark its own nick changes.
    private var me: String?

    /// The first event: which format follows, from which program.
    func hello() { write(["event": "hello", "schema": Self.schema, "version": Catroom.version]) }

    /// Every event of a room names it (`room`, its canonical address); a private message
    /// names the room it came through.
    func show(_ update: ClientUpdate) {
        func write(_ object: [String: Any]) {
            var object = object
            if let room = update.room { object["room"] = room }
            self.write(object)
        }
        switch update.event {
        case .connected(let server, let trust, let me):
            lock.withLock { self.me = me.id }
            write(["event": "connected", "server": server, "trust": Self.trust(trust), "me": Self.member(me)])
        case .joined(let room, let occupants): write(["event": "joined", "room": room, "occupants": occupants])
        case .ready(let members): write(["event": "ready", "members": members])
        case .memberJoined(let member): write(["event": "member-joined", "member": Self.member(member)])
        case .memberPresent(let member): write(["event": "member-present", "member": Self.member(member)])
        case .memberReconnected(let member): write(["event": "member-reconnected", "member": Self.member(member)])
        case .nameReused(let name, let previous, let member):
            write(["event": "name-reused", "name": name, "previous": previous, "member": Self.member(member)])
        case .nameRefused(let member, let reason): write(["event": "name-refused", "member": Self.member(member), "reason": reason])
        case .memberPending(let id, let waited): write(["event": "member-pending", "id": id, "waited": waited])
        case .memberLeft(let member): write(["event": "member-left", "member": Self.member(member)])
        case .nickChanged(let old, let member):
            write(["event": "nick-changed", "from": old, "member": Self.member(member), "own": member.id == lock.withLock { me }])
        case .message(let message):
            write([
                "event": "message", "from": Self.member(message.from), "text": message.text, "action": message.isAction,
                "private": message.isPrivate, "own": message.isOwn, "sent": lock.withLock { dateFormatter.string(from: message.sent) },
                "missing": message.missingRecipients, "unknown": message.unknownRecipients, "id": message.id,
                "to": message.to.map(Self.member) ?? NSNull(),
            ])
        case .undecryptable(let from, let reason): write(["event": "undecryptable", "from": from, "reason": reason])
        case .duplicate(let from): write(["event": "duplicate", "from": from])
        case .delivery(let id, let acknowledged, let pending):
            write(["event": "delivery", "id": id, "acknowledged": acknowledged, "pending": pending])
        case .divergence(let sender, let id, let witness, let text):
            write(["event": "divergence", "sender": sender, "id": id, "witness": witness, "text": text ?? NSNull()])
        case .missing(let from, let count): write(["event": "missing", "from": from, "count": count])
        case .safetyCode(let code, let members): write(["event": "safety", "code": code, "members": members])
        case .notice(let text): write(["event": "notice", "text": text])
        case .error(let text): write(["event": "error", "text": text, "command": NSNull()])
        case .failed(let failure):
            write(["event": "failed", "kind": failure.kind.rawValue, "reason": failure.description, "status": ExitStatus.of(failure.kind)])
        case .disconnected(let reason): write(["event": "disconnected", "reason": reason])
        case .reconnecting(let seconds, let attempt, let reason):
            write(["event": "reconnecting", "seconds": (seconds * 10).rounded() / 10, "attempt": attempt, "reason": reason])
        case .notSent(let text, let reason): write(["event": "not-sent", "text": text, "reason": reason])
        case .unconfirmed(let text): write(["event": "unconfirmed", "text": text])
        case .topic(let topic):
            write(["event": "topic", "text": topic.text, "by": topic.setBy, "at": lock.withLock { dateFormatter.string(from: topic.at) }, "reported-by": topic.reportedBy ?? NSNull()])
        }
    }

    func show(_ reply: CatroomClient.Reply, to command: Command) {
        switch reply {
        case .none: break
        case .notice(let text): write(["event": "notice", "text": text, "command": command.name])
        case .error(let text): write(["event": "error", "text": text, "command": command.name])
        case .members(let me, let others, let safety):
            write([
                "event": "members", "me": me.map(Self.member) ?? NSNull(), "members": others.map(Self.member),
                "safety": safety ?? NSNull(),
            ])
        case .safety(let code, let members): write(["event": "safety", "code": code, "members": members])
        case .fingerprint(let nick, let fingerprint, let verified):
            write(["event": "fingerprint", "nick": nick, "fingerprint": fingerprint, "verified": verified])
        case .contacts(let contacts):
            write(["event": "contacts", "contacts": contacts.map { contact in
                [
                    "nick": contact.name ?? NSNull(), "fingerprint": contact.identity.fingerprint,
                    "verified-at": contact.verified.map(Self.timestamp) ?? NSNull(),
                    "first-seen": Self.timestamp(contact.firstSeen), "last-seen": Self.timestamp(contact.lastSeen),
                ] as [String: Any]
            }])
        }
    }

    func showQuery(_ target: String?) { write(["event": "query", "target": target ?? NSNull()]) }

    func showHistory(_ entries: [HistoryEntry], of conversation: Conversation, named name: String) {
        let place: [String: Any] = switch conversation {
        case .room: ["room": name, "with": NSNull()]
        case .peer(let key): ["room": NSNull(), "with": ["nick": name, "fingerprint": key.fingerprint]]
        }
        write(place.merging(["event": "history", "entries": entries.map(HistoryText.json)]) { old, _ in old })
    }

    func showHelp() {
        write(["event": "help", "commands": Command.all.map { ["usage": $0.usage, "summary": $0.summary] }])
    }

    static func member(_ member: MemberInfo) -> [String: Any] {
        [
            "id": member.id, "nick": member.nick, "fingerprint": member.fingerprint, "verified": member.verified, "ready": member.ready,
            "invited": member.invited ?? NSNull(), "verified-at": member.verifiedAt.map(timestamp) ?? NSNull(),
        ]
    }

    /// ISO 8601 in UTC, like `sent`.
    static func timestamp(_ date: Date) -> String { date.formatted(.iso8601) }

    static func trust(_ trust: TrustOutcome) -> [String: Any] {
        switch trust {
        case .recorded(let fingerprint): ["pin": "recorded", "fingerprint": fingerprint]
        case .matched(let fingerprint): ["pin": "matched", "fingerprint": fingerprint]
        case .unchecked(let fingerprint): ["pin": "unchecked", "fingerprint": fingerprint]
        case .plaintext: ["pin": "none", "fingerprint": NSNull()]
        }
    }

    private func write(_ object: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        lock.lock()
        defer { lock.unlock() }
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}
