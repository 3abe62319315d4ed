import Synchronization

/// Who should have read each soak message, and who did.
///
/// A message is *expected* at member `r` when the sender had finished its key exchange with
/// `r` when it sent (the sender's own events say so), and neither of them lost or ended its
/// connection within `window` of the send, unless `r` read it anyway: a member that stays
/// and never reads a message is a loss, whatever else happens around it.
final class DeliveryLedger: Sendable {
    struct Sent {
        let sender: Int
        let at: ContinuousClock.Instant
        /// Members the sender had a finished key exchange with.
        let recipients: Set<Int>
    }

    /// The totals a report shows.
    struct Tally: Sendable, Equatable {
        var messages = 0
        var expected = 0
        var delivered = 0
        /// Up to ten `tag → member` pairs never read, for the report.
        var lost: [String] = []
    }

    private struct State {
        var sent: [String: Sent] = [:]
        var delivered: [String: Set<Int>] = [:]
        var deliveries = 0
        /// When each member's connection dropped or ended, by member number.
        var disruptions: [Int: [ContinuousClock.Instant]] = [:]
        /// Account ids (CR-0001 §5.1) to member numbers; a returning key maps to its newest member.
        var members: [String: Int] = [:]
    }

    private let state = Mutex(State())

    /// `member`'s account id, from its `connected` event.
    func register(account: String, member: Int) {
        state.withLock { $0.members[account] = member }
    }

    /// A message is about to go out to the members with these account ids.
    func sent(_ tag: String, by sender: Int, to accounts: Set<String>, at instant: ContinuousClock.Instant = .now) {
        state.withLock { state in
            let recipients = Set(accounts.compactMap { state.members[$0] }).subtracting([sender])
            state.sent[tag] = Sent(sender: sender, at: instant, recipients: recipients)
        }
    }

    /// The send failed before anything went out.
    func withdraw(_ tag: String) {
        _ = state.withLock { $0.sent.removeValue(forKey: tag) }
    }

    /// `member` decrypted the message.
    func delivered(_ tag: String, to member: Int) {
        state.withLock { state in
            if state.delivered[tag, default: []].insert(member).inserted { state.deliveries += 1 }
        }
    }

    /// `member`'s connection dropped or ended (or is about to, on purpose).
    func disrupted(_ member: Int, at instant: ContinuousClock.Instant = .now) {
        state.withLock { $0.disruptions[member, default: []].append(instant) }
    }

    /// Deliveries so far, counted once per message and member.
    var deliveries: Int { state.withLock { $0.deliveries } }

    /// Whether every expected delivery has happened (to end the drain early).
    func complete(window: Duration) -> Bool {
        let tally = tally(window: window)
        return tally.delivered == tally.expected
    }

    func tally(window: Duration) -> Tally {
        let state = state.withLock { $0 }
        var tally = Tally(messages: state.sent.count)
        for (tag, message) in state.sent.sorted(by: { $0.value.at < $1.value.at }) {
            let read = state.delivered[tag] ?? []
            func quiet(_ member: Int) -> Bool {
                !(state.disruptions[member] ?? []).contains { $0 >= message.at && $0 < message.at + window }
            }
            guard quiet(message.sender) || !read.isEmpty else { continue }
            for member in message.recipients.sorted() where read.contains(member) || quiet(member) {
                tally.expected += 1
                if read.contains(member) {
                    tally.delivered += 1
                } else if tally.lost.count < 10 {
                    tally.lost.append("\(tag) → member \(member)")
                }
            }
        }
        return tally
    }
}
