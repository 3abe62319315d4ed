import CatroomClient
import CatroomCrypto
import NIOCore
import Synchronization

/// One real catroom client in the soak (the whole engine: X3DH, ratchets, fan-out), with
/// what its events tell: whether it is in the room, and whom its messages reach.
final class SoakMember: Sendable {
    let number: Int
    let client: CatroomClient
    private let ledger: DeliveryLedger
    private let reports: ClientReports
    private let view = Mutex(View())
    private let running: Mutex<Task<Void, Never>?> = Mutex(nil)

    private struct View {
        /// Joined, and every member present at joining has its key exchange done.
        var ready = false
        /// Account ids this member has finished a key exchange with, as its events report them.
        var exchanged: Set<String> = []
        var ended = false
    }

    init(number: Int, configuration: ClientConfiguration, identity: IdentityKeyPair, ledger: DeliveryLedger, reports: ClientReports) {
        self.number = number
        client = CatroomClient(configuration: configuration, identity: identity)
        self.ledger = ledger
        self.reports = reports
    }

    /// Runs the client and follows its events until it ends.
    func start(group: EventLoopGroup) {
        let task = Task { [self] in
            async let run: Void = client.run(group: group)
            for await update in client.events { observe(update.event) }
            await run
            view.withLock { $0.ended = true }
        }
        running.withLock { $0 = task }
    }

    var isReady: Bool { view.withLock { $0.ready } }
    var hasEnded: Bool { view.withLock { $0.ended } }

    /// Waits, a bounded number of polls, until the member is ready; false if it ends or time runs out.
    func waitUntilReady(within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if isReady { return true }
            if hasEnded { return false }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// Sends `tag` as a room message if the member is ready; false if it did not go out.
    @discardableResult
    func say(_ tag: String) async -> Bool {
        guard let recipients = view.withLock({ $0.ready ? $0.exchanged : nil }) else { return false }
        ledger.sent(tag, by: number, to: recipients)
        do {
            try await client.say(tag)
            return true
        } catch {
            ledger.withdraw(tag)
            return false
        }
    }

    /// Its connection is being cut under it: not ready until it is back, and not counted on meanwhile.
    func cut() {
        ledger.disrupted(number)
        ledger.note(number, "cut")
        view.withLock { $0.ready = false }
    }

    /// Leaves politely (presence unavailable, then the stream's end) and waits for the run to end.
    func leave() async {
        ledger.disrupted(number)
        ledger.note(number, "leaving")
        view.withLock { $0.ready = false }
        await client.leave()
        await running.withLock { $0 }?.value
    }

    private func observe(_ event: ClientEvent) {
        switch event {
        case .connected(_, _, let me):
            ledger.register(account: me.id, member: number)
            ledger.note(number, "connected as \(me.id.prefix(8))")
        case .ready:
            view.withLock { $0.ready = true }
            ledger.note(number, "ready")
        case .memberJoined(let member), .memberPresent(let member), .memberReconnected(let member):
            _ = view.withLock { $0.exchanged.insert(member.id) }
            ledger.note(number, "exchanged with \(member.id.prefix(8))")
        case .memberLeft(let member):
            _ = view.withLock { $0.exchanged.remove(member.id) }
            ledger.note(number, "\(member.id.prefix(8)) left")
        case .message(let message) where !message.isOwn:
            ledger.delivered(message.text, to: number)
        case .disconnected, .reconnecting, .failed:
            ledger.disrupted(number)
            ledger.note(number, "\(event)".prefix(40).description)
            view.withLock {
                $0.ready = false
                $0.exchanged = []
            }
            if case .failed(let failure) = event { reports.record("a client could not join: \(failure)") }
        case .undecryptable(let from, let reason):
            reports.record("undecryptable: \(reason)")
            ledger.note(number, "undecryptable from \(from): \(reason.prefix(30))")
        case .missing: reports.record("messages reported missing")
        case .divergence: reports.record("a split view reported")
        case .error(let text):
            reports.record("client error: \(text)")
            ledger.note(number, "error: \(text.prefix(60))")
        default: break
        }
    }
}

/// What the clients (and the churn loop) reported besides messages, counted by kind.
final class ClientReports: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    func record(_ report: String) {
        counts.withLock { $0[report, default: 0] += 1 }
    }

    var all: [String: Int] { counts.withLock { $0 } }
}
