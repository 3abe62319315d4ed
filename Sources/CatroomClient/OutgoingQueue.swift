import CatroomProtocol

/// What the user sent while disconnected, in order, to go out after reconnecting.
/// Bounded: past `limit` a message is refused (and the user told), never dropped in silence.
struct OutgoingQueue: Sendable {
    struct Message: Sendable, Equatable {
        /// The room it goes to, or through (a side chat).
        let room: JID
        let text: String
        var action = false
        /// A side chat's recipient; nil for the room.
        var to: Recipient?
    }

    enum Recipient: Sendable, Equatable {
        /// `/msg nick`: whom the name means when the message goes out.
        case named(String)
        /// An open `/query`: the member's account id, the same after reconnecting (one key per process).
        case member(MemberInfo)
    }

    let limit: Int
    private(set) var messages: [Message] = []

    init(limit: Int) { self.limit = limit }

    /// False when the queue is full: `message` was not queued.
    mutating func append(_ message: Message) -> Bool {
        guard messages.count < limit else { return false }
        messages.append(message)
        return true
    }

    /// Puts back messages taken out but not sent, ahead of the rest: they were accepted
    /// once, so the limit does not refuse them again.
    mutating func prepend(_ taken: [Message]) {
        messages.insert(contentsOf: taken, at: 0)
    }

    /// Everything queued, oldest first, leaving the queue empty.
    mutating func removeAll() -> [Message] {
        defer { messages = [] }
        return messages
    }
}
