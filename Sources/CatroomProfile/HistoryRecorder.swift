import CatroomClient
import CatroomCrypto
import Foundation

/// Turns what a chat shows into history entries and hands them to the profile's writer:
/// on the event path it only builds a value and enqueues it (sealing and the synced
/// write happen on the writer's task).
public struct HistoryRecorder: Sendable {
    private let writer: ProfileWriter
    private let now: @Sendable () -> Date

    public init(writer: ProfileWriter, now: @escaping @Sendable () -> Date = { Date() }) {
        self.writer = writer
        self.now = now
    }

    /// Records `event`, shown in the room `room` (its bare JID), if it is one history keeps.
    public func record(_ event: ClientEvent, room: String) {
        guard let (entry, conversation) = Self.entry(for: event, room: room, at: now()) else { return }
        writer.submit(.history(entry, conversation))
    }

    /// Room and private messages, and topics set while here (not one learnt at joining,
    /// which every rejoin would record again); nil for every other event.
    public static func entry(for event: ClientEvent, room: String, at time: Date) -> (HistoryEntry, Conversation)? {
        switch event {
        case .message(let message):
            let sender = identity(message.from)
            guard message.isPrivate else {
                return (HistoryEntry(kind: message.isAction ? .action : .message, time: time, sender: sender, name: message.from.nick,
                                     text: message.text), .room(room))
            }
            guard let peer = message.isOwn ? message.to.flatMap(identity) : sender else { return nil }
            return (HistoryEntry(kind: message.isOwn ? .privateOut : .privateIn, time: time, sender: sender, name: message.from.nick,
                                 text: message.text), .peer(peer))
        case .topic(let topic) where topic.reportedBy == nil:
            return (HistoryEntry(kind: .topic, time: time, sender: nil, name: topic.setBy, text: topic.text), .room(room))
        default:
            return nil
        }
    }

    /// The identity key a member's fingerprint spells (eight groups of eight hex digits).
    public static func identity(_ member: MemberInfo) -> IdentityKey? {
        [UInt8](hex: member.fingerprint.replacingOccurrences(of: " ", with: "")).flatMap { try? IdentityKey(bytes: $0) }
    }
}
