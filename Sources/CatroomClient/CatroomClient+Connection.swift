import CatroomCrypto
import CatroomProtocol
import CatroomXML
import NIOConcurrencyHelpers
import NIOCore

/// One connection's life: login, fresh sessions and a room engine per room, then reading
/// and keepalive until it ends.
extension CatroomClient {
    /// What a room joined on this connection needs from it.
    struct Link: Sendable {
        let connection: StanzaConnection
        let iq: IQTracker
        /// Every room's pairwise sessions and prekeys (CR-0006 §5.9).
        let sessions: SharedSessions
        /// This member's account id: its nick in every room (CR-0005 §5.1).
        let me: String
        let stanzaCap: Int
        /// Reports a room's event, and lets the connection act on it.
        let report: @Sendable (ClientEvent, JID) -> Void
    }

    /// How one connection ended.
    struct Outcome: Sendable {
        var failure: ConnectFailure
        /// Retrying cannot heal it (a refusal, a pin mismatch).
        var isFinal = false
        /// It got as far as a bound resource.
        var loggedIn = false
        /// It got into a room.
        var joined = false
        /// Own room messages the rooms never echoed back before the connection ended.
        var unechoed: [(room: JID, text: String)] = []

        /// What the user is told.
        var reason: String { failure.description }
    }

    /// What a connection learns as it goes, from several tasks.
    private struct Progress {
        var joined = false
        /// Set by whoever ends the connection on purpose; the first reason wins.
        var ending: (failure: ConnectFailure, isFinal: Bool)?
        /// Ends the wait for the members present before; it must not outlive the connection.
        var flushTimer: Task<Void, Never>?
    }

    func connect(group: EventLoopGroup) async -> Outcome {
        let connection: StanzaConnection
        do {
            connection = try await StanzaConnection.connect(
                host: configuration.host, port: configuration.port, from: configuration.sourceAddress,
                timeout: configuration.phaseTimeoutSeconds, group: group)
        } catch {
            return Outcome(failure: .connecting(to: configuration.host, port: configuration.port, timeout: configuration.phaseTimeoutSeconds, error))
        }
        state.withLockedValue { $0.connection = connection }
        defer { state.withLockedValue { $0.connection = nil } }
        return await withTaskCancellationHandler {
            await converse(over: connection)
        } onCancel: {
            connection.close()
        }
    }

    /// Login, join, then reading until the connection ends.
    private func converse(over connection: StanzaConnection) async -> Outcome {
        let deadline = PhaseDeadline(seconds: configuration.phaseTimeoutSeconds, connection: connection)
        defer { deadline.disarm() }
        var login = Login(
            connection: connection, configuration: configuration, identity: identity, deadline: deadline,
            events: connection.events.makeAsyncIterator())
        let result: Login.Result
        do {
            result = try await login.run()
        } catch {
            connection.close()
            if let expired = deadline.expired { return Outcome(failure: .expired(expired, host: configuration.host, port: configuration.port)) }
            return Outcome(failure: .login(to: configuration.host, port: configuration.port, error), isFinal: Login.isFinal(error))
        }
        switch result.trust {
        case .recorded(let fingerprint), .matched(let fingerprint): pin.withLockedValue { $0 = fingerprint }
        case .unchecked, .plaintext: break
        }
        guard let me = result.jid.localpart else {
            connection.close()
            return Outcome(
                failure: ConnectFailure(.refused, "the server bound an address without an account name (\(result.jid)): is it a catroom server?"),
                isFinal: true)
        }
        let iq = IQTracker()
        let progress = NIOLockedValueBox(Progress())
        let end: @Sendable (ConnectFailure, Bool) -> Void = { failure, isFinal in
            progress.withLockedValue { $0.ending = $0.ending ?? (failure, isFinal) }
            connection.close()
        }
        let report: @Sendable (ClientEvent, JID) -> Void = { [weak self] event, room in
            self?.emit(event, in: room)
            switch event {
            case .joined:
                deadline.disarm()
                // Members who do not come back within a phase's time are not waited for.
                let seconds = self?.configuration.phaseTimeoutSeconds ?? 0
                let first = progress.withLockedValue { progress in
                    defer { progress.joined = true }
                    return !progress.joined
                }
                guard first else { return }
                let timer = Task { [weak self] in
                    guard (try? await Task.sleep(for: .seconds(seconds))) != nil else { return }
                    await self?.sendQueued(.timeUp)
                }
                progress.withLockedValue { $0.flushTimer = timer }
            case .ready: Task { [weak self] in await self?.sendQueued(.ready) }
            case .memberJoined, .memberPresent, .memberReconnected: Task { [weak self] in await self?.sendQueued(.memberJoined) }
            default: break
            }
        }
        let sessions = SharedSessions(SessionStore(preKeys: PreKeyStore(identity: identity)))
        let publisher = PreKeyPublisher(
            sessions: sessions, connection: connection, iq: iq, coolDownSeconds: configuration.refillCoolDownSeconds,
            emit: { [weak self] in self?.emit($0) })
        let link = Link(connection: connection, iq: iq, sessions: sessions, me: me, stanzaCap: result.stanzaCap, report: report)
        let nick = state.withLockedValue { state in
            state.link = link
            return state.nick
        }
        emit(.connected(server: configuration.host, trust: result.trust, me: MemberInfo(
            id: me, nick: nick, fingerprint: identity.publicKey.fingerprint, verified: true, ready: true,
            invited: configuration.invite == nil ? nil : true)))
        let serverDomain = try? JID(localpart: nil, domain: configuration.domain)

        // Read everything from here on; the engine publishes and joins meanwhile.
        var reader = login.events
        let reading = Task { () -> (failure: ConnectFailure, isFinal: Bool) in
            defer { iq.close() }
            while let event = await reader.next() {
                switch event {
                case .element(let element):
                    if iq.resolve(element) { continue }
                    if element.name == "error", element.namespace == Namespace.stream {
                        let transient = Login.isTransient(streamError: element)
                        return (ConnectFailure(transient ? .cannotConnect : .refused, "the server ended the stream: \(Login.errorText(element))"), !transient)
                    }
                    let from = element.attribute("from").flatMap { try? JID($0) }
                    // Each room's stanzas go to its engine; a room left since is not ours.
                    let engine = from.flatMap { from in self.state.withLockedValue { $0.engines[from.bare] } }
                    switch element.name {
                    case "presence":
                        guard let engine else { continue }
                        let joined = await engine.isJoined
                        let refused = element.attribute("type") == "error" && !joined
                        await engine.handlePresence(element)
                        if refused { await self.refused(engine, element, end: end) }
                    case "message":
                        if let from, from == serverDomain, let notice = element.firstChild(name: "low-stock", namespace: Namespace.bundles) {
                            await publisher.noticed(notice)  // CR-0004 §5.4
                        } else {
                            await engine?.handleMessage(element)
                        }
                    case "iq" where element.attribute("type") == "get" || element.attribute("type") == "set":
                        guard let stanza = try? Stanza(element) else { continue }
                        if element.attribute("type") == "get", element.firstChild(name: "ping", namespace: Namespace.ping) != nil {
                            connection.send(stanza.result())  // XEP-0199 §4.1
                        } else if let reply = stanza.errorReply(StanzaError(.serviceUnavailable)) {
                            // Nothing else is served to others: answer as RFC 6120 §8.4 asks.
                            connection.send(reply)
                        }
                    default: break
                    }
                case .streamClosed: return (ConnectFailure(.cannotConnect, "the server closed the stream"), false)
                case .failed(let reason): return (ConnectFailure(.cannotConnect, reason), false)
                case .streamOpened: continue
                }
            }
            return (ConnectFailure(.cannotConnect, "the connection closed"), false)
        }
        let keepalive = Task { await keepAlive(connection, iq: iq, end: end) }
        deadline.arm(.join)
        do {
            try await publisher.publishInitial()
            for room in state.withLockedValue({ $0.rooms }) { await enter(room, over: link) }
        } catch is IQTracker.Closed {
            // The connection ended first: the reading task says why.
        } catch {
            end(.login(to: configuration.host, port: configuration.port, error), false)
        }
        let read = await reading.value
        keepalive.cancel()
        progress.withLockedValue { $0.flushTimer }?.cancel()
        let ended = progress.withLockedValue { $0 }
        let engines = state.withLockedValue { state in
            defer {
                state.engines = [:]
                state.link = nil
                state.open = false
            }
            return state.rooms.compactMap { room in state.engines[room].map { (room, $0) } }
        }
        var present = Set<String>()
        var unechoed: [(room: JID, text: String)] = []
        for (room, engine) in engines {
            present.formUnion(await engine.memberList().filter(\.ready).map { "\(room) \($0.id)" })
            unechoed += await engine.unechoedTexts().map { (room, $0) }
        }
        if ended.joined { state.withLockedValue { $0.awaited = present } }
        let expired = deadline.expired.map { (ConnectFailure.expired($0, host: configuration.host, port: configuration.port), false) }
        let (failure, isFinal) = ended.ending ?? expired ?? read
        return Outcome(failure: failure, isFinal: isFinal, loggedIn: true, joined: ended.joined, unechoed: unechoed)
    }

    /// Joins `room` over the connection `link` belongs to, unless it was left or the
    /// connection ended meanwhile: the one place a room engine is made, for the first
    /// connection, every reconnection and every `/join`.
    func enter(_ room: JID, over link: Link) async {
        var configuration = configuration
        configuration.nick = state.withLockedValue { $0.nick }
        if room != (try? configuration.roomJID()) {
            // A password and an invite secret belong to the room named at the start (CR-0008 §5.2).
            (configuration.roomPassword, configuration.invite) = (nil, nil)
        }
        let engine = RoomEngine(
            configuration: configuration, room: room, me: link.me, sessions: link.sessions, connection: link.connection,
            iq: link.iq, known: known, stanzaCap: link.stanzaCap, emit: { link.report($0, room) })
        let entered = state.withLockedValue { state in
            guard state.rooms.contains(room), state.engines[room] == nil, state.link?.connection === link.connection else { return false }
            state.engines[room] = engine
            return true
        }
        if entered { await engine.join() }
    }

    /// The room refused this client's join: the connection ends with it if it was the
    /// only room, and goes on without it otherwise.
    private func refused(_ engine: RoomEngine, _ element: XML.Element, end: @Sendable (ConnectFailure, Bool) -> Void) async {
        let failure = ConnectFailure.roomRefused(engine.room, element)
        let alone = state.withLockedValue { state in
            guard state.rooms != [engine.room] else { return true }
            state.rooms.removeAll { $0 == engine.room }
            state.engines[engine.room] = nil
            return false
        }
        if alone { return end(failure, true) }
        await engine.leave()
        emit(.failed(failure), in: engine.room)
    }

    /// XEP-0199 §4.2: after `keepaliveIdleSeconds` without a byte from the server, a ping;
    /// no answer within `keepaliveTimeoutSeconds` ends the connection.
    private func keepAlive(_ connection: StanzaConnection, iq: IQTracker, end: @Sendable (ConnectFailure, Bool) -> Void) async {
        let idle = Duration.seconds(configuration.keepaliveIdleSeconds)
        let timeout = configuration.keepaliveTimeoutSeconds
        let ping = XML.Element(
            "iq", namespace: Namespace.client,
            attributes: [XML.Attribute("type", value: "get"), XML.Attribute("to", value: configuration.domain)],
            children: [.element(XML.Element("ping", namespace: Namespace.ping, attributes: []))])
        while !Task.isCancelled {
            let silence = connection.silence
            if silence < idle {
                guard (try? await Task.sleep(for: idle - silence)) != nil else { return }
                continue
            }
            do {
                // Any answer, even an error, shows the server is there.
                _ = try await iq.request(ping, on: connection, timeout: .seconds(timeout))
            } catch is IQTracker.Timeout {
                return end(ConnectFailure(.cannotConnect, "the server did not answer a ping within \(timeout.secondsText) s"), false)
            } catch {
                return
            }
        }
    }
}
