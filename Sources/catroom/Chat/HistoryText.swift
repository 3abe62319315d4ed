import CatroomProfile
import Foundation

/// Stored history as every front end and `catroom history` show it (docs/user-guide.md, "History").
enum HistoryText {
    /// Before the stored entries, and between them and the live messages.
    static let earlier = "── earlier messages (from your profile) ──"
    static let now = "── now ──"

    /// `2026-12-05 21:30 <alice> `, `… * alice `, `… [private] <alice> `, `… alice set the topic: `
    /// (local time): what comes before the entry's text.
    static func prefix(_ entry: HistoryEntry) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        let who = switch entry.kind {
        case .message: "<\(entry.name)> "
        case .action: "* \(entry.name) "
        case .privateIn, .privateOut: "[private] <\(entry.name)> "
        case .topic: entry.text.isEmpty ? "\(entry.name) cleared the topic" : "\(entry.name) set the topic: "
        }
        return "\(formatter.string(from: entry.time)) \(who)"
    }

    /// The entry on one line, further lines of its text marked as in a live message.
    static func line(_ entry: HistoryEntry) -> String {
        prefix(entry) + LineOutput.isolated(entry.text).joined(separator: "\n" + LineOutput.continuation)
    }

    static func json(_ entry: HistoryEntry) -> [String: Any] {
        let kind = switch entry.kind {
        case .message: "message"
        case .action: "action"
        case .privateIn: "private-in"
        case .privateOut: "private-out"
        case .topic: "topic"
        }
        return [
            "kind": kind, "time": JSONOutput.timestamp(entry.time), "nick": entry.name, "text": entry.text,
            "fingerprint": entry.sender?.fingerprint ?? NSNull(),
        ]
    }
}
