import CatroomCrypto
import CatroomProtocol
import CatroomXML

/// The client side of stream negotiation (RFC 6120 §4 to §7) and ephemeral
/// registration with key possession (xep/CR-0003): from TCP to a bound resource.
struct Login {
    let connection: StanzaConnection
    let configuration: ClientConfiguration
    let identity: IdentityKeyPair
    /// Each step below is a phase with its own deadline.
    let deadline: PhaseDeadline
    var events: AsyncStream<StanzaConnection.Event>.AsyncIterator
    /// The id of the server's latest stream header, which the registration signature covers.
    private var streamID = ""

    init(
        connection: StanzaConnection, configuration: ClientConfiguration, identity: IdentityKeyPair, deadline: PhaseDeadline,
        events: AsyncStream<StanzaConnection.Event>.AsyncIterator
    ) {
        self.connection = connection
        self.configuration = configuration
        self.identity = identity
        self.deadline = deadline
        self.events = events
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        /// Trying again would get the same answer: the client does not reconnect.
        let isFinal: Bool
        /// What it means for the user (and the exit status) if it ends the login.
        let kind: ConnectFailure.Kind
        init(_ description: String, kind: ConnectFailure.Kind = .refused, final: Bool = false) {
            self.description = description
            self.kind = kind
            isFinal = final
        }
    }

    /// Whether a login error will not heal by retrying: a refusal, a pin mismatch, a
    /// server that is not what we need. Lost connections and timeouts heal.
    static func isFinal(_ error: Error) -> Bool {
        switch error {
        case let failure as Failure: failure.isFinal
        case is CertificatePin.Mismatch, is SCRAMClient.SCRAMError: true
        default: false
        }
    }

    /// Stream errors (RFC 6120 §4.9.3) after which a new connection may well succeed.
    static func isTransient(streamError element: XML.Element) -> Bool {
        let transient: Set = ["system-shutdown", "connection-timeout", "reset", "internal-server-error", "remote-connection-failed"]
        return element.childElements.contains { transient.contains($0.name) }
    }

    /// What login establishes.
    struct Result {
        let jid: JID
        let trust: TrustOutcome
        /// The largest stanza the server reads (XEP-0478), else the smallest CR-0005 §6.3 allows.
        let stanzaCap: Int
    }

    mutating func run() async throws -> Result {
        var features = try await openStream()
        var trust = TrustOutcome.plaintext
        if features.firstChild(name: "starttls", namespace: Namespace.tls) != nil {
            trust = try await startTLS()
            features = try await openStream()
        } else if !configuration.plaintext {
            throw Failure("the server does not offer TLS, so catroom will not talk to it: check --server and --port (the STARTTLS port, 5222 by default)", kind: .trust, final: true)
        }
        guard features.firstChild(name: "register", namespace: Namespace.registerFeature) != nil else {
            throw Failure("the server does not offer registration: is it a catroom server? Check --server and --port", final: true)
        }
        let password = randomBytes(count: 24).base64
        try await register(password: password)
        features = try await authenticate(password: password)
        guard features.firstChild(name: "bind", namespace: Namespace.bind) != nil else { throw Failure("no resource binding offered", final: true) }
        // XEP-0478: the server's stanza cap bounds what a message may carry (CR-0005 §6.3).
        let announced = features.firstChild(name: "limits", namespace: Namespace.streamLimits)?
            .firstChild(name: "max-bytes", namespace: Namespace.streamLimits).flatMap { Int($0.text) }
        let jid = try await bind()
        deadline.disarm()
        return Result(jid: jid, trust: trust, stanzaCap: announced ?? MessageSize.minimumStanzaCap)
    }

    // MARK: - Steps

    private mutating func openStream() async throws -> XML.Element {
        deadline.arm(.stream)
        try await connection.openStream(to: configuration.domain)
        guard case .streamOpened(let header) = try await next() else { throw Failure("no stream header from the server") }
        streamID = header.attribute("id") ?? ""
        let features = try await element()
        guard features.name == "features", features.namespace == Namespace.stream else { throw unexpected(features) }
        return features
    }

    private mutating func startTLS() async throws -> TrustOutcome {
        connection.send(XML.Element("starttls", namespace: Namespace.tls, attributes: []))
        let proceed = try await element()
        guard proceed.name == "proceed", proceed.namespace == Namespace.tls else { throw unexpected(proceed) }
        deadline.arm(.tls)
        let pin = CertificatePin(
            host: configuration.host, port: configuration.port, trust: configuration.trust, recordingPinIn: configuration.recordPinIn)
        let outcome = OutcomeBox()
        try await connection.startTLS(serverName: configuration.host) { certificate in
            outcome.set(try pin.check(certificate))
        }
        guard let trust = outcome.value else { throw Failure("the TLS handshake ended without checking the certificate") }
        return trust
    }

    /// CR-0003 §5: the challenge, signed with the identity key over this stream's id.
    private mutating func register(password: String) async throws {
        deadline.arm(.registration)
        connection.send(iq(type: "get", id: "register-1", XML.Element("query", namespace: Namespace.register, attributes: [])))
        let form = try await element()
        guard form.attribute("type") == "result",
              let x = form.firstChild(name: "query", namespace: Namespace.register)?.firstChild(name: "x", namespace: Namespace.dataForms),
              let fields = DataForm(x), fields.value("FORM_TYPE") == Namespace.keyRegistration,
              let nonce = fields.value("challenge").flatMap({ [UInt8](base64: $0) })
        else { throw Failure("the server does not offer key-possession registration: is it a catroom server? Check --server and --port", final: true) }
        let signature = KeyPossession.signature(by: identity, domain: configuration.domain, streamID: streamID, nonce: nonce)
        var query = XML.Element("query", namespace: Namespace.register, attributes: [])
        query.append(DataForm(type: "submit", fields: [
            .init("FORM_TYPE", values: [Namespace.keyRegistration]), .init("challenge", values: [nonce.base64]),
            .init("identity-key", values: [identity.publicKey.bytes.base64]), .init("signature", values: [signature.base64]),
            .init("password", values: [password]),
        ]).element)
        connection.send(iq(type: "set", id: "register-2", query))
        let result = try await element()
        guard result.attribute("type") == "result" else {
            // "Too many registrations, try later" (resource-constraint) heals with time; other refusals do not.
            let busy = result.firstChild(name: "error", namespace: Namespace.client)?
                .firstChild(name: "resource-constraint", namespace: Namespace.stanzaErrors) != nil
            throw Failure("the server refused to register this identity (\(Self.errorText(result))): it may be limiting new accounts; try again later or ask its operator", final: !busy)
        }
    }

    /// SASL SCRAM-SHA-256 (RFC 7677), then the stream restart.
    private mutating func authenticate(password: String) async throws -> XML.Element {
        deadline.arm(.authentication)
        var scram = SCRAMClient(user: identity.publicKey.accountID, password: Array(password.utf8))
        connection.send(XML.Element("auth", namespace: Namespace.sasl, attributes: [XML.Attribute("mechanism", value: SCRAM.mechanism)], children: [.text(scram.clientFirst().base64)]))
        let challenge = try await element()
        guard challenge.name == "challenge", let serverFirst = [UInt8](base64: challenge.text) else { throw Failure("authentication refused: \(challenge.childElements.first?.name ?? "?")", final: true) }
        connection.send(XML.Element("response", namespace: Namespace.sasl, attributes: [], children: [.text(try scram.clientFinal(serverFirst: serverFirst).base64)]))
        let success = try await element()
        guard success.name == "success", let serverFinal = [UInt8](base64: success.text) else { throw Failure("authentication refused: \(success.childElements.first?.name ?? "?")", final: true) }
        // The server proves it knew the credentials too (RFC 5802 §3).
        try scram.verify(serverFinal: serverFinal)
        return try await openStream()
    }

    private mutating func bind() async throws -> JID {
        deadline.arm(.bind)
        connection.send(iq(type: "set", id: "bind-1", XML.Element("bind", namespace: Namespace.bind, attributes: [])))
        let result = try await element()
        guard let text = result.firstChild(name: "bind", namespace: Namespace.bind)?.firstChild(name: "jid", namespace: Namespace.bind)?.text,
              let jid = try? JID(text)
        else { throw Failure("binding failed: \(Self.errorText(result))") }
        return jid
    }

    // MARK: - Reading

    private mutating func next() async throws -> StanzaConnection.Event {
        guard let event = await events.next() else { throw Failure("the server closed the connection during the login", kind: .cannotConnect) }
        if case .failed(let reason) = event { throw Failure(reason, kind: .cannotConnect) }
        return event
    }

    private mutating func element() async throws -> XML.Element {
        switch try await next() {
        case .element(let element):
            if element.name == "error", element.namespace == Namespace.stream {
                let transient = Self.isTransient(streamError: element)
                throw Failure(
                    "the server ended the login (\(Self.errorText(element))): try again later, or ask its operator",
                    kind: transient ? .cannotConnect : .refused, final: !transient)
            }
            return element
        case .streamClosed: throw Failure("the server closed the stream during the login", kind: .cannotConnect)
        default: throw Failure("unexpected stream header")
        }
    }

    private func unexpected(_ element: XML.Element) -> Failure {
        Failure("unexpected <\(element.name)/> from the server: is it a catroom server? Check --server and --port")
    }

    private func iq(type: String, id: String, _ payload: XML.Element) -> XML.Element {
        XML.Element("iq", namespace: Namespace.client, attributes: [XML.Attribute("type", value: type), XML.Attribute("id", value: id)], children: [.element(payload)])
    }

    /// The condition (and text) of a stanza or stream error, for messages to the user.
    static func errorText(_ element: XML.Element) -> String {
        let error = element.name == "error" ? element : element.firstChild(name: "error", namespace: Namespace.client)
        let children = error?.childElements ?? []
        let condition = children.first { $0.name != "text" }?.name ?? "unknown error"
        let text = children.first { $0.name == "text" }?.text
        return text.map { "\(condition) (\($0))" } ?? condition
    }
}

/// Carries the pin outcome out of the TLS verification callback.
private final class OutcomeBox: @unchecked Sendable {
    private(set) var value: TrustOutcome?
    func set(_ outcome: TrustOutcome) { value = outcome }
}
