import CatroomCrypto
import CatroomProtocol
import CatroomXML
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The catroom client engine behind every front end: joins a room end to end
/// encrypted, and reports everything as `ClientEvent`s.
///
/// Nothing is written to disk but the server's certificate fingerprint
/// (trust on first use); the identity lives in memory and dies with the process.
public final class CatroomClient: Sendable {
    public let configuration: ClientConfiguration
    /// Everything that happens, in order, for one consumer.
    public let events: AsyncStream<ClientEvent>
    private let continuation: AsyncStream<ClientEvent>.Continuation
    private let engine = EngineBox()
    private let pin = NIOLockedValueBox<String?>(nil)
    private let identity: IdentityKeyPair
    /// The members met, by key: kept for every connection this client makes (CR-0006 §5.10).
    private let known = KnownMembers()

    /// `identity` is the key the client registers with; a fresh one by default.
    public init(configuration: ClientConfiguration, identity: IdentityKeyPair = .generate()) {
        self.configuration = configuration
        (events, continuation) = AsyncStream.makeStream(of: ClientEvent.self)
        self.identity = identity
    }

    /// Connects, registers, joins, and runs until the connection ends; errors become events.
    public func run(group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async {
        let emit: @Sendable (ClientEvent) -> Void = { [continuation] in continuation.yield($0) }
        defer { continuation.finish() }
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
            _ = try DisplayName.check(configuration.nick)
        } catch {
            return emit(.error("cannot join with that name: \(error) (CR-0006 §5.4)"))
        }
        let connection: StanzaConnection
        do {
            connection = try await StanzaConnection.connect(
                host: configuration.host, port: configuration.port, from: configuration.sourceAddress, group: group)
        } catch {
            return emit(.disconnected(reason: "\(error)"))
        }
        self.engine.set(connection: connection)
        var login = Login(connection: connection, configuration: configuration, identity: identity, events: connection.events.makeAsyncIterator())
        // A server that accepts and then says nothing must not hold the client forever.
        let timedOut = NIOLockedValueBox(false)
        let watchdog = Task {
            try await Task.sleep(for: .seconds(configuration.loginTimeoutSeconds))
            timedOut.withLockedValue { $0 = true }
            connection.close()
        }
        let result: Login.Result
        do {
            result = try await login.run()
            watchdog.cancel()
        } catch {
            watchdog.cancel()
            connection.close()
            return emit(.disconnected(reason: timedOut.withLockedValue { $0 } ? "the server did not complete the login in time" : "\(error)"))
        }
        switch result.trust {
        case .recorded(let fingerprint), .matched(let fingerprint): pin.withLockedValue { $0 = fingerprint }
        case .unchecked, .plaintext: break
        }
        var reader = login.events
        let iq = IQTracker()
        guard let me = result.jid.localpart else {
            connection.close()
            return emit(.disconnected(reason: "the server bound an address without an account name: \(result.jid)"))
        }
        let engine = RoomEngine(
            configuration: configuration, room: room, me: me,
            store: SessionStore(preKeys: PreKeyStore(identity: identity)), connection: connection, iq: iq, known: known, emit: emit)
        self.engine.set(engine, connection)
        emit(.connected(server: configuration.host, trust: result.trust, me: await engine.myInfo()))

        // Read everything from here on; the engine publishes and joins meanwhile.
        let reading = Task {
            while let event = await reader.next() {
                switch event {
                case .element(let element):
                    if iq.resolve(element) { continue }
                    if element.name == "error", element.namespace == Namespace.stream {
                        return "the server ended the stream: \(Login.errorText(element))"
                    }
                    switch element.name {
                    case "presence": await engine.handlePresence(element)
                    case "message": await engine.handleMessage(element)
                    case "iq" where element.attribute("type") == "get" || element.attribute("type") == "set":
                        // Nothing is served to others: answer as RFC 6120 §8.4 asks.
                        if let reply = try? Stanza(element).errorReply(StanzaError(.serviceUnavailable)) { connection.send(reply) }
                    default: break
                    }
                case .streamClosed: return "the server closed the stream"
                case .failed(let reason): return reason
                case .streamOpened: continue
                }
            }
            return "the connection closed"
        }
        do {
            try await engine.publishPreKeys()
            await engine.join()
        } catch {
            emit(.error("\(error)"))
            connection.close()
        }
        let reason = await reading.value
        iq.failAll(Login.Failure(reason))
        emit(.disconnected(reason: reason))
    }

    // MARK: - Commands

    public func say(_ text: String) async throws { try await engine.engine?.say(text) }

    public func act(_ text: String) async throws { try await engine.engine?.say(text, action: true) }

    public func whisper(_ text: String, to nick: String) async throws { try await engine.engine?.whisper(text, to: nick) }

    /// A side chat to the member `/query` resolved, by its account id: never to a newcomer with its name.
    public func whisper(_ text: String, to member: MemberInfo) async throws {
        try await engine.engine?.whisper(text, toID: member.id, shownAs: member.nick)
    }

    public func changeNick(_ nick: String) async throws { try await engine.engine?.changeNick(nick) }

    public func verify(_ nick: String) async throws -> MemberInfo? { try await engine.engine?.verify(nick) }

    public func members() async -> [MemberInfo] { await engine.engine?.memberList() ?? [] }

    /// The member a name typed by the user means (an id, a shown name, or a unique chosen
    /// one, CR-0006 §5.4); throws when there is none or several; nil before joining.
    public func member(named nick: String) async throws -> MemberInfo? { try await engine.engine?.memberInfo(named: nick) }

    public func me() async -> MemberInfo? { await engine.engine?.myInfo() }

    /// The server certificate's fingerprint as checked at login, for `/invite`'s `--pin`.
    var certificatePin: String? { pin.withLockedValue { $0 } }

    /// The room safety code now, and how many members it covers (CR-0007); nil before joining.
    public func safetyCode() async -> (code: String, members: Int)? {
        await engine.engine?.safetyCode().map { ($0.text, $0.memberCount) }
    }

    /// Test only: takes a display name without checking it, as a malicious member would.
    @_spi(Testing) public func changeNickUnchecked(_ nick: String) async throws { try await engine.engine?.changeNick(nick, checked: false) }

    /// Test only: sends each text as a version of one room message (a malicious sender).
    @_spi(Testing) public func sayInVersions(_ texts: [String]) async throws { try await engine.engine?.sayInVersions(texts) }

    /// Who acknowledged this member's last room message, and who not yet (CR-0006 §5.8).
    public func lastDelivery() async -> (acknowledged: [String], pending: [String])? { await engine.engine?.lastDelivery() }

    /// Leaves the room and closes the stream (RFC 6120 §4.4).
    public func leave() async {
        guard let connection = engine.connection else { return }
        guard let engine = engine.engine else { return connection.close() }
        connection.send(XML.Element("presence", namespace: Namespace.client, attributes: [
            XML.Attribute("to", value: "\(engine.room)/\(engine.me)"), XML.Attribute("type", value: "unavailable"),
        ]))
        connection.send(bytes: Array("</stream:stream>".utf8))
        try? await Task.sleep(for: .milliseconds(50))
        connection.close()
    }
}

/// The engine and connection, once they exist.
private final class EngineBox: Sendable {
    private let lock = NIOLockedValueBox<(RoomEngine?, StanzaConnection?)>((nil, nil))
    var engine: RoomEngine? { lock.withLockedValue { $0.0 } }
    var connection: StanzaConnection? { lock.withLockedValue { $0.1 } }
    func set(_ engine: RoomEngine, _ connection: StanzaConnection) { lock.withLockedValue { $0 = (engine, connection) } }
    func set(connection: StanzaConnection) { lock.withLockedValue { $0.1 = connection } }
}
