import CatroomCrypto
import CatroomProtocol
import CatroomXML
import NIOCore
import NIOSSL

/// Stream negotiation (RFC 6120 §4 to §7): headers and features, STARTTLS, SASL, binding.
extension ClientConnection {
    static let streamDeclarations: [XML.NamespaceDeclaration] = [
        .defaultNamespace(Namespace.client), XML.NamespaceDeclaration(prefix: "stream", uri: Namespace.stream),
    ]

    var tlsRequired: Bool { !configuration.allowPlaintext }

    // MARK: - Headers and features (RFC 6120 §4.3, §4.7)

    func sendHeader() {
        streamID = randomBytes(count: 16).base64
        send(raw: Self.header(from: configuration.domain, id: streamID))
        headerSent = true
    }

    static func header(from domain: String, id: String) -> [UInt8] {
        let header = XML.Element("stream", namespace: Namespace.stream, attributes: [
            XML.Attribute("from", value: domain), XML.Attribute("id", value: id),
            XML.Attribute("version", value: "1.0"), XML.Attribute("lang", namespace: XML.xmlNamespace, value: "en"),
        ])
        return Array("<?xml version='1.0'?>".utf8) + header.serializedOpeningTag(declaring: streamDeclarations)
    }

    func streamOpened(_ root: XML.Element) {
        guard case .awaitingHeader = phase else { return streamError(StreamError(.invalidXML)) }
        sendHeader()
        guard root.name == "stream", root.namespace == Namespace.stream else {
            return streamError(StreamError(.invalidNamespace))
        }
        guard let to = root.attribute("to"), (try? JID(to)) == hub.domain else {
            return streamError(StreamError(.hostUnknown))
        }
        // RFC 6120 §4.7.5: a missing version means 0.9; catroom speaks 1.x only.
        guard let version = root.attribute("version"), version.hasPrefix("1.") else {
            return streamError(StreamError(.unsupportedVersion))
        }
        phase = authenticatedAs.map { .authenticated($0) } ?? .negotiating
        send(features())
    }

    func features() -> XML.Element {
        var features = XML.Element("features", namespace: Namespace.stream, attributes: [])
        if authenticatedAs != nil {
            features.append(XML.Element("bind", namespace: Namespace.bind, attributes: []))
        } else {
            if !isSecure {
                // RFC 6120 §5.3.1: when TLS is mandatory it is the only feature offered.
                var starttls = XML.Element("starttls", namespace: Namespace.tls, attributes: [])
                if tlsRequired { starttls.append(XML.Element("required", namespace: Namespace.tls, attributes: [])) }
                features.append(starttls)
                if tlsRequired { return features }
            }
            var mechanisms = XML.Element("mechanisms", namespace: Namespace.sasl, attributes: [])
            var offered = [SCRAM.mechanism]
            if isSecure { offered.append("PLAIN") }  // PLAIN only over TLS (AR-02)
            for name in offered {
                mechanisms.append(XML.Element("mechanism", namespace: Namespace.sasl, attributes: [], children: [.text(name)]))
            }
            features.append(mechanisms)
            features.append(XML.Element("register", namespace: Namespace.registerFeature, attributes: []))
        }
        // XEP-0478: say how big a stanza may be, so clients need not find out the hard way.
        var limits = XML.Element("limits", namespace: Namespace.streamLimits, attributes: [])
        limits.append(XML.Element("max-bytes", namespace: Namespace.streamLimits, attributes: [], children: [.text(String(configuration.limits.maxStanzaBytes))]))
        features.append(limits)
        return features
    }

    // MARK: - Dispatch by phase

    func received(_ element: XML.Element) {
        switch phase {
        case .awaitingHeader, .closing:
            return
        case .negotiating:
            negotiate(element)
        case .authenticated(let localpart):
            bindResource(element, account: localpart)
        case .established(let session):
            routeStanza(element, from: session)
        }
    }

    private func negotiate(_ element: XML.Element) {
        switch (element.namespace, element.name) {
        case (Namespace.tls, "starttls"):
            startTLS()
        case (Namespace.sasl, _) where tlsRequired && !isSecure:
            streamError(StreamError(.policyViolation, text: "STARTTLS first"))
        case (Namespace.sasl, "auth"):
            authenticate(element)
        case (Namespace.sasl, "response"):
            respond(element)
        case (Namespace.sasl, "abort"):
            scram = nil
            saslFailure(.aborted)
        case (Namespace.client, "iq") where !(tlsRequired && !isSecure)
            && element.childElements.first.map({ $0.name == "query" && $0.namespace == Namespace.register }) == true:
            register(element)
        default:
            // Nothing else before authentication (RFC 6120 §6.4.6; SECURITY-CASES XS-11).
            streamError(StreamError(.notAuthorized))
        }
    }

    // MARK: - STARTTLS (RFC 6120 §5.4)

    private func startTLS() {
        guard !isSecure, let context else {
            // RFC 6120 §5.4.2.2: a <failure/>, then the stream ends.
            send(XML.Element("failure", namespace: Namespace.tls, attributes: []))
            return closeStream(with: nil)
        }
        // Anything pipelined after <starttls/> would be read as if it came over TLS (CVE-2011-0411).
        guard decoder.bytesAfterLastEvent == 0 else {
            return streamError(StreamError(.policyViolation, text: "data after starttls"))
        }
        send(XML.Element("proceed", namespace: Namespace.tls, attributes: []))
        // Out now, in the clear: TLS in front would hold a flush until its handshake,
        // which the client starts only after reading this. Then add TLS in this same tick.
        context.channel.flush()
        do {
            try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: identity.context), position: .first)
        } catch {
            context.close(promise: nil)
            return
        }
        isSecure = true
        restartStream()
    }

    /// RFC 6120 §5.4.3.3, §6.4.6: a new stream on the same connection.
    func restartStream() {
        decoder.reset()
        headerSent = false
        phase = .awaitingHeader
    }

    // MARK: - SASL (RFC 6120 §6)

    private func authenticate(_ element: XML.Element) {
        guard authenticatedAs == nil, scram == nil else { return saslFailure(.malformedRequest) }
        guard let initial = Self.saslData(element.text) else { return saslFailure(.incorrectEncoding) }
        switch element.attribute("mechanism") {
        case SCRAM.mechanism?:
            var exchange = SCRAMServer(
                serverNonce: SCRAM.makeNonce(),
                decoySalt: { [key = hub.decoyKey] user in SCRAM.decoySalt(key: key, user: user) })
            let step = exchange.receive(clientFirst: initial) { [hub] user in
                JID.normalizedLocalpart(user).flatMap { hub.credentials(for: $0) }
            }
            scram = exchange
            saslStep(step)
        case "PLAIN"? where isSecure:
            plain(initial)
        case "PLAIN"?:
            saslFailure(.encryptionRequired)
        default:
            saslFailure(.invalidMechanism)
        }
    }

    private func respond(_ element: XML.Element) {
        guard var exchange = scram, let data = Self.saslData(element.text) else { return saslFailure(.malformedRequest) }
        let step = exchange.receive(clientFinal: data)
        scram = exchange
        saslStep(step)
    }

    private func saslStep(_ step: SCRAMServer.Step) {
        switch step {
        case .challenge(let data):
            send(XML.Element("challenge", namespace: Namespace.sasl, attributes: [], children: [.text(data.base64)]))
        case .success(let user, let data):
            scram = nil
            guard let localpart = JID.normalizedLocalpart(user) else { return saslFailure(.notAuthorized) }
            saslSuccess(localpart: localpart, additionalData: data)
        case .failure(let failure):
            scram = nil
            saslFailure(failure)
        }
    }

    /// RFC 4616: `[authzid] NUL authcid NUL passwd`.
    private func plain(_ message: [UInt8]) {
        let parts = message.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let user = String(validating: parts[1], as: UTF8.self),
              let localpart = JID.normalizedLocalpart(user)
        else { return saslFailure(.malformedRequest) }
        if !parts[0].isEmpty {
            guard String(decoding: parts[0], as: UTF8.self) == "\(localpart)@\(configuration.domain)" else {
                return saslFailure(.invalidAuthzid)
            }
        }
        let password = Array(parts[2])
        guard let credentials = hub.credentials(for: localpart) else {
            // Spend the same time as for a real account, so timing does not reveal which exist.
            _ = SCRAM.Credentials(password: password, salt: [0], iterations: SCRAM.iterations)
            return saslFailure(.notAuthorized)
        }
        guard credentials.matches(password: password) else { return saslFailure(.notAuthorized) }
        saslSuccess(localpart: localpart, additionalData: nil)
    }

    private func saslSuccess(localpart: String, additionalData: [UInt8]?) {
        guard hub.attach(handle, to: localpart) else { return saslFailure(.notAuthorized) }
        authenticatedAs = localpart
        send(XML.Element("success", namespace: Namespace.sasl, attributes: [], children: additionalData.map { [.text($0.base64)] } ?? []))
        startKeepalive()
        restartStream()
    }

    func saslFailure(_ failure: SASLFailure) {
        var element = XML.Element("failure", namespace: Namespace.sasl, attributes: [])
        element.append(XML.Element(failure.rawValue, namespace: Namespace.sasl, attributes: []))
        send(element)
        countFailure()
    }

    /// Too many failed attempts end the stream (SECURITY-CASES AR-07).
    func countFailure() {
        failedAttempts += 1
        if failedAttempts >= configuration.limits.maxFailedAttempts {
            hub.metrics?.hit(.maxFailedAttempts)
            streamError(StreamError(.policyViolation, text: "too many failed attempts"))
        }
    }

    /// SASL data is base64, with "=" for an empty response (RFC 6120 §6.4.2).
    private static func saslData(_ text: String) -> [UInt8]? {
        if text.isEmpty || text == "=" { return [] }
        return [UInt8](base64: text)
    }

    // MARK: - Resource binding (RFC 6120 §7)

    private func bindResource(_ element: XML.Element, account: String) {
        guard let stanza = try? Stanza(element), stanza.kind == .iq else { return streamError(StreamError(.notAuthorized)) }
        switch stanza.payload.map({ ($0.namespace, $0.name) }) {
        case (Namespace.bind, "bind")? where stanza.type == "set":
            let requested = stanza.payload?.firstChild(name: "resource", namespace: Namespace.bind)?.text
            guard let bare = try? JID(localpart: account, domain: configuration.domain) else {
                return reply(to: stanza, StanzaError(.internalServerError))
            }
            var candidates: [String] = []
            if let requested, JID.isValidResource(requested) { candidates.append(requested) }
            // RFC 6120 §7.7.2.2: on a clash the server may assign a resource instead.
            candidates.append("catroom-" + randomBytes(count: 6).hexString)
            for resource in candidates {
                guard let jid = try? bare.with(resource: resource) else { continue }
                let bound: Session
                do {
                    bound = try hub.bind(jid, connection: handle)
                } catch let error where error.condition == .conflict {
                    continue
                } catch {
                    return reply(to: stanza, error)
                }
                session = bound
                phase = .established(bound)
                var bind = XML.Element("bind", namespace: Namespace.bind, attributes: [])
                bind.append(XML.Element("jid", namespace: Namespace.bind, attributes: [], children: [.text(jid.description)]))
                return send(stanza.result(bind))
            }
            reply(to: stanza, StanzaError(.conflict))
        default:
            streamError(StreamError(.notAuthorized, text: "bind a resource first"))
        }
    }
}
