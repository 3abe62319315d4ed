import CatroomCrypto
import CatroomProtocol
import CatroomXML
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The catroom client engine behind every front end: joins rooms end to end encrypted
/// over one connection, stays connected, and reports everything as `ClientEvent`s,
/// each with its room (`ClientUpdate`).
///
/// Nothing is written to disk but the server's certificate fingerprint (trust on first
/// use); the identity lives in memory and dies with the process. After a lost
/// connection it reconnects with the same identity (`ReconnectPolicy`), rejoins every
/// room, and what the user sends meanwhile waits in a bounded queue. The rooms of one
/// connection share its pairwise sessions (CR-0006 §5.9).
public final class CatroomClient: Sendable {
    public let configuration: ClientConfiguration
    /// Everything that happens, in order, for one consumer.
    public let events: AsyncStream<ClientUpdate>
    private let continuation: AsyncStream<ClientUpdate>.Continuation
    let state: NIOLockedValueBox<State>
    let pin = NIOLockedValueBox<String?>(nil)
    let identity: IdentityKeyPair
    /// The members met, by key: kept for every connection this client makes (CR-0006 §5.10).
    let known: KnownMembers

    /// What changes from one connection to the next.
    struct State {
        /// The rooms to be in, in the order joined: every connection joins them all.
        var rooms: [JID] = []
        /// The current connection's room engines, by room.
        var engines: [JID: RoomEngine] = [:]
        /// The current connection, once logged in: what a room joined later needs.
        var link: Link?
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
        /// The members with sessions when the last connection ended, as "room id": queued
        /// messages wait for them to be back (for a while), so that they go to the same people.
        var awaited: Set<String> = []
        /// Stops the connection attempt or the backoff wait under way.
        var cancelCurrent: (@Sendable () -> Void)?
    }

    /// `identity` is the member's key for every connection of this client; a front end
    /// keeps one for the life of the process and hands it to each client it makes.
    public init(configuration: ClientConfiguration, identity: IdentityKeyPair = .generate(), known: KnownMembers = KnownMembers()) {
        self.configuration = configuration
        self.known = known
        (events, continuation) = AsyncStream.makeStream(of: ClientUpdate.self)
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
        do {
            var rooms = [try configuration.roomJID()]
            for name in configuration.moreRooms {
                let room = try configuration.roomJID(name)
                if !rooms.contains(room) { rooms.append(room) }
            }
            guard rooms.count <= Self.roomLimit else { return emit(.error("cannot join more than \(Self.roomLimit) rooms at once")) }
            state.withLockedValue { $0.rooms = rooms }
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
            guard let outcome = await cancellable({ await self.connect(group: group) }) else { return }
            // The rooms named at the start cannot be reached: that is the answer, not a drop to retry.
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
            for (room, text) in outcome.unechoed { emit(.unconfirmed(text: text), in: room) }
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

    func emit(_ event: ClientEvent, in room: JID? = nil) { continuation.yield(ClientUpdate(room: room?.description, event: event)) }

    /// Whatever still waits in the queue is reported as not sent: nothing goes silently.
    private func finish() {
        let unsent = state.withLockedValue { state in
            state.finished = true
            return state.queue.removeAll()
        }
        let reason = hasLeft ? "you left before the connection came back" : "the connection did not come back"
        for message in unsent { emit(.notSent(text: message.text, reason: reason), in: message.room) }
        continuation.finish()
    }

    // MARK: - Rooms

    /// The rooms this client is in or joining, in the order joined (canonical addresses).
    public var rooms: [String] { state.withLockedValue { $0.rooms.map(\.description) } }

    /// Joins one more room over the same connection (now, or once connected), with the
    /// same identity and display name, and the sessions already held (CR-0006 §5.1).
    public func join(_ name: String) async throws {
        let room: JID
        do {
            room = try configuration.roomJID(name)
        } catch {
            throw NotSent(description: "cannot join: \(error)")
        }
        let link = try state.withLockedValue { state throws -> Link? in
            guard !state.left, !state.finished else { throw NotSent(description: "not running: cannot join \(room)") }
            guard !state.rooms.contains(room) else { throw NotSent(description: "already in \(room)") }
            guard state.rooms.count < Self.roomLimit else {
                throw NotSent(description: "already in \(Self.roomLimit) rooms, as many as a server lets one account be in: /part one first")
            }
            state.rooms.append(room)
            return state.link
        }
        if let link { await enter(room, over: link) }
    }

    /// Leaves one room (XEP-0045 §7.14); its members' sessions go unless another room
    /// holds them (CR-0006 §5.9). Messages queued for it are reported as not sent.
    public func part(_ name: String) async throws {
        let room = try room(named: name)
        let (engine, connection, unsent) = try state.withLockedValue { state throws in
            guard let index = state.rooms.firstIndex(of: room) else { throw NotSent(description: "not in \(room)") }
            state.rooms.remove(at: index)
            var kept: [OutgoingQueue.Message] = []
            var unsent: [OutgoingQueue.Message] = []
            for message in state.queue.removeAll() { if message.room == room { unsent.append(message) } else { kept.append(message) } }
            state.queue.prepend(kept)
            return (state.engines.removeValue(forKey: room), state.connection, unsent)
        }
        for message in unsent { emit(.notSent(text: message.text, reason: "you left \(room)"), in: room) }
        guard let engine else { return }
        connection?.send(Self.unavailable(to: room, me: engine.me))
        await engine.leave()
    }

    /// The most rooms one client joins: the server's cap per account (CR-0005 §7).
    static let roomLimit = 50

    static func unavailable(to room: JID, me: String) -> XML.Element {
        XML.Element("presence", namespace: Namespace.client, attributes: [
            XML.Attribute("to", value: "\(room)/\(me)"), XML.Attribute("type", value: "unavailable"),
        ])
    }

    /// The room a command names (nil: the first joined), as a canonical address.
    func room(named name: String?) throws(NotSent) -> JID {
        let rooms = state.withLockedValue { $0.rooms }
        guard let name else {
            guard let first = rooms.first else { throw NotSent(description: "not in a room: /join <room> joins one") }
            return first
        }
        let room = (try? JID(name)).flatMap { rooms.contains($0) ? $0 : nil } ?? (try? configuration.roomJID(name))
        guard let room, rooms.contains(room) else { throw NotSent(description: "not in \(name)") }
        return room
    }

    /// The current connection's engine for a room, if it is joined or joining.
    private func engine(_ name: String?) throws -> RoomEngine? {
        let room = try room(named: name)
        return state.withLockedValue { $0.engines[room] }
    }

    // MARK: - Commands

    public func say(_ text: String, in room: String? = nil) async throws {
        _ = try await deliver(.init(room: self.room(named: room), text: text))
    }

    public func act(_ text: String, in room: String? = nil) async throws {
        _ = try await deliver(.init(room: self.room(named: room), text: text, action: true))
    }

    public func whisper(_ text: String, to nick: String, in room: String? = nil) async throws {
        _ = try await deliver(.init(room: self.room(named: room), text: text, to: .named(nick)))
    }

    /// A side chat to the member `/query` resolved, by its account id: never to a newcomer
    /// with its name. It goes through `room` if the member is there, else through any room
    /// of this client the member is in.
    public func whisper(_ text: String, to member: MemberInfo, in room: String? = nil) async throws {
        _ = try await deliver(.init(room: self.room(named: room), text: text, to: .member(member)))
    }

    public func changeNick(_ nick: String) async throws {
        let engines = state.withLockedValue { state in state.rooms.compactMap { state.engines[$0] } }
        guard !engines.isEmpty else { throw NotSent(description: "not connected: /nick works once connected") }
        // One name in every room: checked once, then announced in each.
        for engine in engines { try await engine.changeNick(nick) }
        state.withLockedValue { $0.nick = nick }
    }

    public func verify(_ nick: String, in room: String? = nil) async throws -> MemberInfo? { try await engine(room)?.verify(nick) }

    /// Hides, or shows again, the messages of the member's key, in every room.
    public func setIgnored(_ nick: String, _ ignored: Bool, in room: String? = nil) async throws -> MemberInfo? {
        try await engine(room)?.setIgnored(nick, ignored)
    }

    /// The keys ignored, by last name (or none) and fingerprint.
    public func ignoredMembers() -> [(name: String?, fingerprint: String)] {
        known.ignored().map { ($0.name, $0.key.fingerprint) }.sorted { ($0.name ?? "") < ($1.name ?? "") }
    }

    /// Sets the room topic for every member (CR-0006 §5.11); an empty text clears it.
    public func setTopic(_ text: String, in room: String? = nil) async throws {
        guard let engine = try engine(room) else { throw NotSent(description: "not connected: /topic works once connected") }
        try await engine.setTopic(text)
    }

    /// The room topic as shown; nil when none was set or reported, or before joining.
    public func topic(in room: String? = nil) async -> TopicInfo? { await (try? engine(room))??.currentTopic() }

    public func members(in room: String? = nil) async -> [MemberInfo] { await (try? engine(room))??.memberList() ?? [] }

    /// The member a name typed by the user means (an id, a shown name, or a unique chosen
    /// one, CR-0006 §5.4); throws when there is none or several; nil before joining.
    public func member(named nick: String, in room: String? = nil) async throws -> MemberInfo? {
        try await engine(room)?.memberInfo(named: nick)
    }

    public func me(in room: String? = nil) async -> MemberInfo? { await (try? engine(room))??.myInfo() }

    /// The server certificate's fingerprint as checked at login, for `/invite`'s `--pin`.
    var certificatePin: String? { pin.withLockedValue { $0 } }

    /// The room safety code now, and how many members it covers (CR-0007); nil before joining.
    public func safetyCode(in room: String? = nil) async -> (code: String, members: Int)? {
        await (try? engine(room))??.safetyCode().map { ($0.text, $0.memberCount) }
    }

    /// Test only: takes a display name without checking it, as a malicious member would.
    @_spi(Testing) public func changeNickUnchecked(_ nick: String) async throws { try await engine(nil)?.changeNick(nick, checked: false) }

    /// Test only: sends each text as a version of one room message (a malicious sender).
    @_spi(Testing) public func sayInVersions(_ texts: [String]) async throws { try await engine(nil)?.sayInVersions(texts) }

    /// Test only: the account ids this client holds a pairwise session with now.
    @_spi(Testing) public func sessionPeers() -> [String] {
        state.withLockedValue { $0.link?.sessions.peers ?? [] }
    }

    /// Who acknowledged this member's last room message, and who not yet (CR-0006 §5.8).
    public func lastDelivery(in room: String? = nil) async -> (acknowledged: [String], pending: [String])? {
        await (try? engine(room))??.lastDelivery()
    }

    /// Leaves every room and closes the stream (RFC 6120 §4.4); no reconnection follows.
    public func leave() async {
        let (connection, engines, cancel) = state.withLockedValue { state in
            state.left = true
            return (state.connection, state.engines.values, state.cancelCurrent)
        }
        if let connection, !engines.isEmpty {
            for engine in engines { connection.send(Self.unavailable(to: engine.room, me: engine.me)) }
            connection.send(bytes: Array("</stream:stream>".utf8))
            try? await Task.sleep(for: .milliseconds(50))
        }
        connection?.close()
        cancel?()
    }
}
