import CatroomCrypto
import CatroomProtocol
import CatroomXML

/// The client side of stream negotiation (RFC 6120 §4 to §7): header, features,
/// STARTTLS, in-band registration, SASL, restart, resource binding.
///
/// A value that turns stream events into actions; the connection handler does the
/// I/O, so this tests without sockets. Registration, when asked for, happens on the
/// secured stream before SASL (XEP-0077 §3.1; CR-0003 §5), and a name that is already
/// taken counts as registered, so `--register xep0077` can be rerun against a server
/// that keeps its accounts.
struct StreamNegotiation {
    enum Action: Equatable {
        /// Bytes for the wire.
        case send([UInt8])
        /// `<proceed/>` came: put TLS in front of everything and restart the parser;
        /// call `tlsEstablished()` after the handshake.
        case startTLS
        /// SASL succeeded: start a new document before the new header (RFC 6120 §6.4.6).
        case restartParser
        /// Bound to this full JID: the stream carries stanzas now.
        case established(jid: String)
        case failed(String)
    }

    enum Phase: Equatable {
        case awaitingHeader, awaitingFeatures, awaitingProceed, awaitingTLS
        case awaitingForm, awaitingRegistration, awaitingChallenge, awaitingSuccess, awaitingBind
        case established, failed
    }

    /// Who logs in, and how.
    struct Plan: Sendable {
        var domain: String
        var tls: ServerBenchmarkOptions.TLSMode
        var authentication: ServerBenchmarkOptions.Authentication
        var registration: ServerBenchmarkOptions.Registration
        /// The account name (`<prefix><n>`), or the key-derived id with catroom-key registration.
        var username: String
        var password: String
        /// The identity key that proves possession for catroom-key registration.
        var identity: IdentityKeyPair?
    }

    let plan: Plan
    private(set) var phase = Phase.awaitingHeader
    private(set) var streamID: String?
    private var isSecure: Bool
    private var registered: Bool
    private var authenticated = false
    /// The SASL mechanisms of the last pre-authentication features (registration answers carry none).
    private var mechanisms: [String] = []
    private var scram: SCRAMClient?

    init(plan: Plan) {
        self.plan = plan
        isSecure = plan.tls == .direct
        registered = plan.registration == .none
    }

    /// `<stream:stream>` to the server, sent first and after every restart.
    var header: [UInt8] {
        Array(("<?xml version='1.0'?><stream:stream xmlns='\(Namespace.client)' "
            + "xmlns:stream='\(Namespace.stream)' to='\(plan.domain)' version='1.0'>").utf8)
    }

    mutating func start() -> [Action] {
        [.send(header)]
    }

    /// The STARTTLS handshake finished: a new stream over TLS (RFC 6120 §5.4.3.3).
    mutating func tlsEstablished() -> [Action] {
        guard phase == .awaitingTLS else { return [] }
        isSecure = true
        phase = .awaitingHeader
        return [.send(header)]
    }

    mutating func receive(_ event: XML.StreamEvent) -> [Action] {
        switch event {
        case .streamOpened(let root):
            guard phase == .awaitingHeader else { return fail("unexpected stream header") }
            streamID = root.attribute("id")
            phase = .awaitingFeatures
            return []
        case .streamClosed:
            return fail("the server closed the stream")
        case .element(let element):
            if element.name == "error", element.namespace == Namespace.stream {
                return fail("stream error \(Self.condition(of: element, namespace: Namespace.streamErrors))")
            }
            return receive(element)
        }
    }

    private mutating func receive(_ element: XML.Element) -> [Action] {
        switch phase {
        case .awaitingFeatures:
            guard element.name == "features", element.namespace == Namespace.stream else { return fail("expected features, got <\(element.name)>") }
            return features(element)
        case .awaitingProceed:
            guard element.name == "proceed", element.namespace == Namespace.tls else { return fail("STARTTLS refused") }
            phase = .awaitingTLS
            return [.startTLS]
        case .awaitingForm:
            return registrationForm(element)
        case .awaitingRegistration:
            guard element.name == "iq" else { return fail("expected the registration result, got <\(element.name)>") }
            // A taken name is fine: the account exists from an earlier run, and SASL will say if the password differs.
            guard element.attribute("type") == "result" || (plan.registration == .xep0077 && Self.stanzaError(element) == "conflict") else {
                return fail("registration refused: \(Self.stanzaError(element) ?? "no reason")")
            }
            registered = true
            return authenticate()
        case .awaitingChallenge:
            guard element.name == "challenge", element.namespace == Namespace.sasl, var scram,
                  let first = [UInt8](base64: element.text)
            else { return saslFailure(element) }
            do {
                let final = try scram.clientFinal(serverFirst: first)
                self.scram = scram
                phase = .awaitingSuccess
                return [.send(Array("<response xmlns='\(Namespace.sasl)'>\(final.base64)</response>".utf8))]
            } catch {
                return fail("SCRAM: \(error)")
            }
        case .awaitingSuccess:
            guard element.name == "success", element.namespace == Namespace.sasl else { return saslFailure(element) }
            if let scram {
                // RFC 6120 §6.4.6: the server-final-message travels in <success/>.
                guard let final = [UInt8](base64: element.text), (try? scram.verify(serverFinal: final)) != nil else {
                    return fail("the server's SCRAM signature does not verify")
                }
            }
            authenticated = true
            phase = .awaitingHeader
            return [.restartParser, .send(header)]
        case .awaitingBind:
            guard element.name == "iq", element.attribute("type") == "result",
                  let jid = element.firstChild(name: "bind", namespace: Namespace.bind)?.firstChild(name: "jid", namespace: Namespace.bind)?.text
            else { return fail("bind refused: \(Self.stanzaError(element) ?? "<\(element.name)>")") }
            phase = .established
            return [.established(jid: jid)]
        case .awaitingHeader, .awaitingTLS, .established, .failed:
            return []
        }
    }

    // MARK: - Features (RFC 6120 §4.3.2)

    private mutating func features(_ features: XML.Element) -> [Action] {
        if authenticated {
            guard features.firstChild(name: "bind", namespace: Namespace.bind) != nil else { return fail("no resource binding offered") }
            phase = .awaitingBind
            // No resource asked for: the server picks one (RFC 6120 §7.6).
            return [.send(Array("<iq type='set' id='bind1'><bind xmlns='\(Namespace.bind)'/></iq>".utf8))]
        }
        if !isSecure, plan.tls == .starttls {
            guard features.firstChild(name: "starttls", namespace: Namespace.tls) != nil else { return fail("STARTTLS not offered") }
            phase = .awaitingProceed
            return [.send(Array("<starttls xmlns='\(Namespace.tls)'/>".utf8))]
        }
        mechanisms = features.firstChild(name: "mechanisms", namespace: Namespace.sasl)?
            .children(name: "mechanism", namespace: Namespace.sasl).map(\.text) ?? []
        guard !registered else { return authenticate() }
        switch plan.registration {
        case .xep0077:
            phase = .awaitingRegistration
            var query = XML.Element("query", namespace: Namespace.register, attributes: [])
            query.append(XML.Element("username", namespace: Namespace.register, attributes: [], children: [.text(plan.username)]))
            query.append(XML.Element("password", namespace: Namespace.register, attributes: [], children: [.text(plan.password)]))
            return [.send(Self.iq(type: "set", id: "reg1", query))]
        case .catroomKey:
            phase = .awaitingForm
            return [.send(Array("<iq type='get' id='reg1'><query xmlns='\(Namespace.register)'/></iq>".utf8))]
        case .none:
            return authenticate()
        }
    }

    // MARK: - Key registration (CR-0003 §5)

    private mutating func registrationForm(_ reply: XML.Element) -> [Action] {
        guard reply.name == "iq", reply.attribute("type") == "result" else {
            return fail("no registration form: \(Self.stanzaError(reply) ?? "<\(reply.name)>")")
        }
        guard let identity = plan.identity, let streamID,
              let x = reply.firstChild(name: "query", namespace: Namespace.register)?.firstChild(name: "x", namespace: Namespace.dataForms),
              let nonce = DataForm(x)?.value("challenge").flatMap({ [UInt8](base64: $0) })
        else { return fail("the registration form has no challenge (not a catroom server?)") }
        let signature = KeyPossession.signature(by: identity, domain: plan.domain, streamID: streamID, nonce: nonce)
        let form = DataForm(type: "submit", fields: [
            .init("FORM_TYPE", values: [Namespace.keyRegistration]), .init("challenge", values: [nonce.base64]),
            .init("identity-key", values: [identity.publicKey.bytes.base64]), .init("signature", values: [signature.base64]),
            .init("password", values: [plan.password]),
        ])
        var query = XML.Element("query", namespace: Namespace.register, attributes: [])
        query.append(form.element)
        phase = .awaitingRegistration
        return [.send(Self.iq(type: "set", id: "reg2", query))]
    }

    // MARK: - SASL (RFC 6120 §6)

    /// SASL with the chosen mechanism. A stream that advertises no mechanisms at all (catroom
    /// with `--allow-plaintext` before STARTTLS) is tried anyway: the server decides.
    private mutating func authenticate() -> [Action] {
        switch plan.authentication {
        case .plain:
            guard mechanisms.isEmpty || mechanisms.contains("PLAIN") else { return fail("PLAIN not offered (offered: \(mechanisms.joined(separator: " ")))") }
            // RFC 4616: authzid NUL authcid NUL passwd, with an empty authzid.
            let message = [0] + Array(plan.username.utf8) + [0] + Array(plan.password.utf8)
            phase = .awaitingSuccess
            return [.send(Array("<auth xmlns='\(Namespace.sasl)' mechanism='PLAIN'>\(message.base64)</auth>".utf8))]
        case .scramSHA256:
            guard mechanisms.isEmpty || mechanisms.contains(SCRAM.mechanism) else {
                return fail("SCRAM-SHA-256 not offered (offered: \(mechanisms.joined(separator: " ")))")
            }
            var client = SCRAMClient(user: plan.username, password: Array(plan.password.utf8))
            let first = client.clientFirst()
            scram = client
            phase = .awaitingChallenge
            return [.send(Array("<auth xmlns='\(Namespace.sasl)' mechanism='\(SCRAM.mechanism)'>\(first.base64)</auth>".utf8))]
        }
    }

    private mutating func saslFailure(_ element: XML.Element) -> [Action] {
        if element.name == "failure", element.namespace == Namespace.sasl {
            return fail("SASL failure \(element.childElements.first?.name ?? "")")
        }
        return fail("unexpected <\(element.name)> during SASL")
    }

    /// `<iq type id>payload</iq>` for a `jabber:client` stream.
    static func iq(type: String, id: String, _ payload: XML.Element) -> [UInt8] {
        XML.Element("iq", namespace: Namespace.client, attributes: [
            XML.Attribute("type", value: type), XML.Attribute("id", value: id),
        ], children: [.element(payload)]).serialized(inheritedNamespace: Namespace.client)
    }

    // MARK: - Failures

    private mutating func fail(_ reason: String) -> [Action] {
        phase = .failed
        return [.failed(reason)]
    }

    /// The defined condition of a stanza error (RFC 6120 §8.3.3), if the element is one.
    static func stanzaError(_ element: XML.Element) -> String? {
        guard element.attribute("type") == "error", let error = element.firstChild(name: "error", namespace: Namespace.client) else { return nil }
        return condition(of: error, namespace: Namespace.stanzaErrors)
    }

    static func condition(of error: XML.Element, namespace: String) -> String {
        error.childElements.first { $0.namespace == namespace && $0.name != "text" }?.name ?? "undefined-condition"
    }
}
