import Foundation
import Synchronization

/// Who should have read each soak message, and who did.
///
/// A message is *expected* at member `r` when the sender had finished its key exchange with
/// `r` when it sent (the sender's own events say so), `r`'s connection was up at the send,
/// and neither of them lost or ended its connection within `window` after it, unless `r`
/// read it anyway: a member that stays and never reads a message is a loss, whatever else
/// happens around it. The sender's view lags: a member that began leaving a moment before
/// the send is still in it, but its own connection says it was gone.
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
        /// Up to ten deliveries never made, for the report.
        var lost: [SoakReport.Loss] = []
    }

    private typealias Note = (at: ContinuousClock.Instant, text: String)

    private struct State {
        var sent: [String: Sent] = [:]
        var delivered: [String: Set<Int>] = [:]
        var deliveries = 0
        /// Each member's connection coming up (`connected`) and going down (dropped, ended,
        /// or about to be on purpose), in order, by member number.
        var transitions: [Int: [(at: ContinuousClock.Instant, up: Bool)]] = [:]
        /// Account ids (CR-0001 §5.1) to member numbers; a returning key maps to its newest member.
        var members: [String: Int] = [:]
        /// Each member's recent lifecycle, to explain a loss: when it connected, became ready,
        /// dropped, saw others come and go, or could not read something.
        var notes: [Int: [Note]] = [:]
    }

    /// Notes kept per member; a chatting client's oldest go first.
    static let notesKept = 400

    private let state = Mutex(State())

    /// `member` is connected under this account id (its `connected` event).
    func register(account: String, member: Int, at instant: ContinuousClock.Instant = .now) {
        state.withLock {
            $0.members[account] = member
            $0.transitions[member, default: []].append((instant, true))
        }
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
        state.withLock { $0.transitions[member, default: []].append((instant, false)) }
    }

    /// Something in `member`'s lifecycle, for the timeline of a loss.
    func note(_ member: Int, _ text: String, at instant: ContinuousClock.Instant = .now) {
        state.withLock { state in
            state.notes[member, default: []].append((instant, text))
            if state.notes[member, default: []].count > Self.notesKept { state.notes[member]?.removeFirst() }
        }
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
            // Up at the send, and not down again within the window.
            func stayed(_ member: Int) -> Bool {
                let transitions = state.transitions[member] ?? []
                guard transitions.last(where: { $0.at <= message.at })?.up == true else { return false }
                return !transitions.contains { !$0.up && $0.at > message.at && $0.at < message.at + window }
            }
            guard stayed(message.sender) || !read.isEmpty else { continue }
            for member in message.recipients.sorted() where read.contains(member) || stayed(member) {
                tally.expected += 1
                if read.contains(member) {
                    tally.delivered += 1
                } else if tally.lost.count < 10 {
                    tally.lost.append(SoakReport.Loss(message: tag, member: member, timeline: Self.timeline(of: member, around: message, in: state)))
                }
            }
        }
        return tally
    }

    /// The recipient's and the sender's notes from 10 s before a lost message to 30 s
    /// after it, each as "member 7: -1.200 connected as …" in seconds from the send.
    private static func timeline(of member: Int, around message: Sent, in state: State) -> [String] {
        [member, message.sender].flatMap { who in
            (state.notes[who] ?? []).filter { $0.at > message.at - .seconds(10) && $0.at < message.at + .seconds(30) }.map { note in
                let offset = note.at - message.at
                let seconds = Double(offset.components.seconds) + Double(offset.components.attoseconds) / 1e18
                return "member \(who): " + String(format: "%+.3f ", seconds) + note.text
            }
        }
    }
}
