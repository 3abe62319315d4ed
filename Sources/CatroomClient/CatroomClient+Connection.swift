import CatroomCrypto
import CatroomProtocol
import CatroomXML
import NIOConcurrencyHelpers
import NIOCore

/// One connection's life: login, a fresh room engine, then reading and keepalive until it ends.
extension CatroomClient {
    /// How one connection ended.
    struct Outcome: Sendable {
        var failure: ConnectFailure
        /// Retrying cannot heal it (a refusal, a pin mismatch).
        var isFinal = false
        /// It got as far as a bound resource.
        var loggedIn = false
        /// It got into the room.
        var joined = false
        /// Own room messages the room never echoed back before the connection ended.
        var unechoed: [String] = []

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

    func connect(room: JID, group: EventLoopGroup) async -> Outcome {
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
            await converse(over: connection, room: room)
        } onCancel: {
            connection.close()
        }
    }

    /// Login, join, then reading until the connection ends.
    private func converse(over connection: StanzaConnection, room: JID) async -> Outcome {
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
        let emit: @Sendable (ClientEvent) -> Void = { [weak self] event in
            self?.emit(event)
            switch event {
            case .joined:
                deadline.disarm()
                progress.withLockedValue { $0.joined = true }
                // Members who do not come back within a phase's time are not waited for.
                let seconds = self?.configuration.phaseTimeoutSeconds ?? 0
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
        let engine = makeEngine(room: room, me: me, connection: connection, iq: iq, stanzaCap: result.stanzaCap, emit: emit)
        state.withLockedValue { $0.engine = engine }
        emit(.connected(server: configuration.host, trust: result.trust, me: await engine.myInfo()))

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
                    switch element.name {
                    case "presence":
                        let refused = element.attribute("type") == "error" && !progress.withLockedValue { $0.joined }
                            && element.attribute("from").flatMap { try? JID($0) }?.bare == room
                        await engine.handlePresence(element)
                        if refused { end(.roomRefused(room, element), true) }
                    case "message": await engine.handleMessage(element)
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
            try await engine.publishPreKeys()
            await engine.join()
        } catch is IQTracker.Closed {
            // The connection ended first: the reading task says why.
        } catch {
            end(.login(to: configuration.host, port: configuration.port, error), false)
        }
        let read = await reading.value
        keepalive.cancel()
        progress.withLockedValue { $0.flushTimer }?.cancel()
        let nick = await engine.myNick
        let ended = progress.withLockedValue { $0 }
        let present = ended.joined ? Set(await engine.memberList().filter(\.ready).map(\.id)) : nil
        state.withLockedValue { state in
            state.engine = nil
            state.open = false
            state.nick = nick
            if let present { state.awaited = present }
        }
        let expired = deadline.expired.map { (ConnectFailure.expired($0, host: configuration.host, port: configuration.port), false) }
        let (failure, isFinal) = ended.ending ?? expired ?? read
        return Outcome(failure: failure, isFinal: isFinal, loggedIn: true, joined: ended.joined, unechoed: await engine.unechoedTexts())
    }

    /// The one place a room engine is made, for the first connection and every reconnection:
    /// fresh prekeys and sessions, the same identity and display name.
    private func makeEngine(
        room: JID, me: String, connection: StanzaConnection, iq: IQTracker, stanzaCap: Int,
        emit: @escaping @Sendable (ClientEvent) -> Void
    ) -> RoomEngine {
        var configuration = configuration
        configuration.nick = state.withLockedValue { $0.nick }
        return RoomEngine(
            configuration: configuration, room: room, me: me,
            store: SessionStore(preKeys: PreKeyStore(identity: identity)), connection: connection, iq: iq, known: known,
            stanzaCap: stanzaCap, emit: emit)
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
