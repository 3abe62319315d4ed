import CatroomCrypto
import CatroomProtocol
import CatroomXML
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The catroom client engine behind every front end: joins a room end to end
/// encrypted, stays connected, and reports everything as `ClientEvent`s.
///
/// Nothing is written to disk but the server's certificate fingerprint (trust on first
/// use); the identity lives in memory and dies with the process. After a lost
/// connection it reconnects with the same identity (`ReconnectPolicy`), and what the
/// user sends meanwhile waits in a bounded queue.
public final class CatroomClient: Sendable {
    public let configuration: ClientConfiguration
    /// Everything that happens, in order, for one consumer.
    public let events: AsyncStream<ClientEvent>
    private let continuation: AsyncStream<ClientEvent>.Continuation
    let state: NIOLockedValueBox<State>
    let pin = NIOLockedValueBox<String?>(nil)
    let identity: IdentityKeyPair
    /// The members met, by key: kept for every connection this client makes (CR-0006 §5.10).
    let known: KnownMembers

    /// What changes from one connection to the next.
    struct State {
        var engine: RoomEngine?
        var connection: StanzaConnection?
        /// Messages go straight out: the room is joined and the sessions are re-established.
        var open = false
        var queue: OutgoingQueue
        /// The display name, kept across connections after a `/nick`.
        var nick: String
        /// `leave()` was called: no more connections.
        var left = false
        /// The run is over: nothing more is queued.
        var finished = false
        /// The queue is being sent.
        var flushing = false
        /// The members with sessions when the last connection ended: queued messages wait
        /// for them to be back (for a while), so that they go to the same people.
        var awaited: Set<String> = []
        /// Stops the connection attempt or the backoff wait under way.
        var cancelCurrent: (@Sendable () -> Void)?
    }

    /// `identity` is the member's key for every connection of this client; a front end
    /// keeps one for the life of the process and hands it to each client it makes.
    public init(configuration: ClientConfiguration, identity: IdentityKeyPair = .generate(), known: KnownMembers = KnownMembers()) {
        self.configuration = configuration
        self.known = known
        (events, continuation) = AsyncStream.makeStream(of: ClientEvent.self)
        self.identity = identity
        state = NIOLockedValueBox(State(queue: OutgoingQueue(limit: configuration.queueLimit), nick: configuration.nick))
    }

    /// Whether `leave()` ended this client (rather than the server or an error).
    public var hasLeft: Bool { state.withLockedValue { $0.left } }

    /// Connects, registers, joins, and reconnects after a drop until `leave()`, an error
    /// that retrying cannot heal, or the end of `ReconnectPolicy`; errors become events.
    /// The first connection is not retried: if it does not get into the room, the run
    /// ends with `.failed`, so a wrong address or a refusal is reported at once.
    public func run(group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async {
        defer { finish() }
        if configuration.trust == .insecure || configuration.plaintext, !isLoopbackHost(configuration.host) {
            return emit(.error("--insecure and plaintext are for loopback tests only"))
        }
        let room: JID
        do {
            room = try configuration.roomJID()
        } catch {
            return emit(.error("cannot join: \(error)"))
        }
        do {
            _ = try configuration.checkedNick()
        } catch {
            return emit(.error("cannot join with that name: \(error) (CR-0006 §5.4)"))
        }
        let policy = configuration.reconnect
        var generator = SystemRandomNumberGenerator()
        var attempt = 0
        var wasJoined = false
        while true {
            guard let outcome = await cancellable({ await self.connect(room: room, group: group) }) else { return }
            // The room named at the start cannot be reached: that is the answer, not a drop to retry.
            guard wasJoined || outcome.joined else {
                if !hasLeft, !Task.isCancelled { emit(.failed(outcome.failure)) }
                return
            }
            wasJoined = true
            // A live connection ended: say so once, whatever comes next.
            if outcome.loggedIn { emit(.disconnected(reason: outcome.reason)) }
            if outcome.joined { attempt = 0 }
            if hasLeft || Task.isCancelled { return }
            // Without the room's echo there is no telling whether it went out: the user decides.
            for text in outcome.unechoed { emit(.unconfirmed(text: text)) }
            guard policy.enabled, !outcome.isFinal else {
                if !outcome.loggedIn { emit(.disconnected(reason: outcome.reason)) }
                if policy.enabled { emit(.notice("not reconnecting: retrying would get the same answer")) }
                return
            }
            attempt += 1
            guard attempt <= policy.maxAttempts else {
                return emit(.disconnected(reason: "gave up after \(policy.maxAttempts) attempts to reconnect; the last: \(outcome.reason)"))
            }
            let delay = policy.delay(attempt: attempt, using: &generator)
            emit(.reconnecting(seconds: delay, attempt: attempt, reason: outcome.reason))
            guard await cancellable({ (try? await Task.sleep(for: .seconds(delay))) != nil }) == true else { return }
        }
    }

    /// Runs `body` as the current step, which `leave()` or cancelling `run` stops; nil after `leave()`.
    private func cancellable<T: Sendable>(_ body: @escaping @Sendable () async -> T) async -> T? {
        let task = Task { await body() }
        let started = state.withLockedValue { state in
            guard !state.left else { return false }
            state.cancelCurrent = { task.cancel() }
            return true
        }
        guard started else {
            task.cancel()
            return nil
        }
        return await withTaskCancellationHandler { await task.value } onCancel: { task.cancel() }
    }

    func emit(_ event: ClientEvent) { continuation.yield(event) }

    /// Whatever still waits in the queue is reported as not sent: nothing goes silently.
    private func finish() {
        let unsent = state.withLockedValue { state in
            state.finished = true
            return state.queue.removeAll()
        }
        let reason = hasLeft ? "you left before the connection came back" : "the connection did not come back"
        for message in unsent { emit(.notSent(text: message.text, reason: reason)) }
        continuation.finish()
    }

    // MARK: - Commands

    public func say(_ text: String) async throws { _ = try await deliver(.init(text: text)) }

    public func act(_ text: String) async throws { _ = try await deliver(.init(text: text, action: true)) }

    public func whisper(_ text: String, to nick: String) async throws { _ = try await deliver(.init(text: text, to: .named(nick))) }

    /// A side chat to the member `/query` resolved, by its account id: never to a newcomer with its name.
    public func whisper(_ text: String, to member: MemberInfo) async throws { _ = try await deliver(.init(text: text, to: .member(member))) }

    public func changeNick(_ nick: String) async throws {
        guard let engine else { throw NotSent(description: "not connected: /nick works once connected") }
        try await engine.changeNick(nick)
        state.withLockedValue { $0.nick = nick }
    }

    public func verify(_ nick: String) async throws -> MemberInfo? { try await engine?.verify(nick) }

    /// Hides, or shows again, the messages of the member's key.
    public func setIgnored(_ nick: String, _ ignored: Bool) async throws -> MemberInfo? { try await engine?.setIgnored(nick, ignored) }

    /// The keys ignored, by last name (or none) and fingerprint.
    public func ignoredMembers() -> [(name: String?, fingerprint: String)] {
        known.ignored().map { ($0.name, $0.key.fingerprint) }.sorted { ($0.name ?? "") < ($1.name ?? "") }
    }

    /// Sets the room topic for every member (CR-0006 §5.11); an empty text clears it.
    public func setTopic(_ text: String) async throws {
        guard let engine else { throw NotSent(description: "not connected: /topic works once connected") }
        try await engine.setTopic(text)
    }

    /// The room topic as shown; nil when none was set or reported, or before joining.
    public func topic() async -> TopicInfo? { await engine?.currentTopic() }

    public func members() async -> [MemberInfo] { await engine?.memberList() ?? [] }

    /// The member a name typed by the user means (an id, a shown name, or a unique chosen
    /// one, CR-0006 §5.4); throws when there is none or several; nil before joining.
    public func member(named nick: String) async throws -> MemberInfo? { try await engine?.memberInfo(named: nick) }

    public func me() async -> MemberInfo? { await engine?.myInfo() }

    /// The server certificate's fingerprint as checked at login, for `/invite`'s `--pin`.
    var certificatePin: String? { pin.withLockedValue { $0 } }

    /// The room safety code now, and how many members it covers (CR-0007); nil before joining.
    public func safetyCode() async -> (code: String, members: Int)? {
        await engine?.safetyCode().map { ($0.text, $0.memberCount) }
    }

    /// Test only: takes a display name without checking it, as a malicious member would.
    @_spi(Testing) public func changeNickUnchecked(_ nick: String) async throws { try await engine?.changeNick(nick, checked: false) }

    /// Test only: sends each text as a version of one room message (a malicious sender).
    @_spi(Testing) public func sayInVersions(_ texts: [String]) async throws { try await engine?.sayInVersions(texts) }

    /// Who acknowledged this member's last room message, and who not yet (CR-0006 §5.8).
    public func lastDelivery() async -> (acknowledged: [String], pending: [String])? { await engine?.lastDelivery() }

    /// Leaves the room and closes the stream (RFC 6120 §4.4); no reconnection follows.
    public func leave() async {
        let (connection, engine, cancel) = state.withLockedValue { state in
            state.left = true
            return (state.connection, state.engine, state.cancelCurrent)
        }
        if let connection, let engine {
            connection.send(XML.Element("presence", namespace: Namespace.client, attributes: [
                XML.Attribute("to", value: "\(engine.room)/\(engine.me)"), XML.Attribute("type", value: "unavailable"),
            ]))
            connection.send(bytes: Array("</stream:stream>".utf8))
            try? await Task.sleep(for: .milliseconds(50))
        }
        connection?.close()
        cancel?()
    }

    /// The engine of the current connection, if one is logged in.
    private var engine: RoomEngine? { state.withLockedValue { $0.engine } }
}
