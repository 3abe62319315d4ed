import CatroomCrypto
import CatroomProtocol
import CatroomXML

/// The whole client side of catroom's login (CR-0003), step by step, for tests.
extension TestClient {
    /// Opens a stream to `domain` and returns the features.
    @discardableResult
    public func openStream(to domain: String = "localhost") async throws -> XML.Element {
        try await send("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='\(domain)' version='1.0'>")
        streamID = try await receiveHeader().attribute("id")
        let features = try await receive()
        guard features.name == "features" else { throw Unexpected("expected features, got \(features)") }
        return features
    }

    /// Registers an ephemeral account for `identity` with key possession (CR-0003 §5).
    public func registerEphemeral(identity: IdentityKeyPair, password: String, domain: String = "localhost", streamID: String) async throws {
        let nonce = try await requestChallenge()
        let signature = KeyPossession.signature(by: identity, domain: domain, streamID: streamID, nonce: nonce)
        let result = try await submitRegistration(identityKey: identity.publicKey.bytes, signature: signature, password: password, nonce: nonce)
        guard result.attribute("type") == "result" else { throw Unexpected("registration failed: \(result)") }
    }

    /// Asks for the registration form and returns its challenge (CR-0003 §5.1).
    public func requestChallenge() async throws -> [UInt8] {
        try await send("<iq type='get' id='reg1'><query xmlns='jabber:iq:register'/></iq>")
        let form = try await receive()
        guard let x = form.childElements.first?.firstChild(name: "x", namespace: Namespace.dataForms),
              let nonce = DataForm(x)?.value("challenge").flatMap({ [UInt8](base64: $0) })
        else { throw Unexpected("no challenge in \(form)") }
        return nonce
    }

    /// Submits the registration form with whatever values a test chooses; returns the reply.
    public func submitRegistration(identityKey: [UInt8], signature: [UInt8], password: String, nonce: [UInt8], id: String = "reg2") async throws -> XML.Element {
        let submit = DataForm(type: "submit", fields: [
            .init("FORM_TYPE", values: [Namespace.keyRegistration]), .init("challenge", values: [nonce.base64]),
            .init("identity-key", values: [identityKey.base64]), .init("signature", values: [signature.base64]),
            .init("password", values: [password]),
        ])
        var query = XML.Element("query", namespace: Namespace.register, attributes: [])
        query.append(submit.element)
        try await send(XML.Element("iq", namespace: Namespace.client, attributes: [XML.Attribute("type", value: "set"), XML.Attribute("id", value: id)], children: [.element(query)]))
        return try await receive()
    }

    /// SASL SCRAM-SHA-256, then the stream restart; returns the new features.
    @discardableResult
    public func authenticate(user: String, password: String, domain: String = "localhost") async throws -> XML.Element {
        var scram = SCRAMClient(user: user, password: Array(password.utf8))
        try await send("<auth xmlns='\(Namespace.sasl)' mechanism='SCRAM-SHA-256'>\(scram.clientFirst().base64)</auth>")
        let challenge = try await receive()
        guard challenge.name == "challenge", let first = [UInt8](base64: challenge.text) else { throw Unexpected("SASL: \(challenge)") }
        try await send("<response xmlns='\(Namespace.sasl)'>\(try scram.clientFinal(serverFirst: first).base64)</response>")
        let success = try await receive()
        guard success.name == "success", let final = [UInt8](base64: success.text) else { throw Unexpected("SASL: \(success)") }
        try scram.verify(serverFinal: final)
        restartParser()
        return try await openStream(to: domain)
    }

    /// Binds a resource and returns the full JID.
    public func bind(resource: String? = nil) async throws -> JID {
        let requested = resource.map { "<resource>\($0)</resource>" } ?? ""
        try await send("<iq type='set' id='bind1'><bind xmlns='\(Namespace.bind)'>\(requested)</bind></iq>")
        let result = try await receive()
        guard let text = result.firstChild(name: "bind", namespace: Namespace.bind)?.firstChild(name: "jid", namespace: Namespace.bind)?.text
        else { throw Unexpected("bind failed: \(result)") }
        return try JID(text)
    }

    /// Connects, registers a fresh identity, authenticates and binds: a ready catroom client.
    public static func login(
        port: Int, identity: IdentityKeyPair = .generate(), tls: Bool = false, from address: String? = nil, domain: String = "localhost",
        receiveBufferSize: Int? = nil
    ) async throws -> (client: TestClient, jid: JID, identity: IdentityKeyPair) {
        let client = try await TestClient.connect(port: port, from: address, receiveBufferSize: receiveBufferSize)
        try await client.openStream(to: domain)
        if tls {
            try await client.startTLS()
            try await client.openStream(to: domain)
        }
        guard let streamID = client.streamID else { throw Unexpected("no stream id") }
        let password = randomBytes(count: 24).base64
        try await client.registerEphemeral(identity: identity, password: password, domain: domain, streamID: streamID)
        try await client.authenticate(user: identity.publicKey.accountID, password: password, domain: domain)
        let jid = try await client.bind()
        return (client, jid, identity)
    }
}

extension TestClient {
    /// Publishes a bundle made from a fresh prekey store of `identity` (CR-0004 §5.2); returns the store.
    @discardableResult
    public func publishBundle(of identity: IdentityKeyPair, oneTimePreKeys count: Int) async throws -> PreKeyStore {
        var store = PreKeyStore(identity: identity)
        let oneTime = store.generateOneTimePreKeys(count: count)
        let bundle = BundleElement(identityKey: identity.publicKey, signedPreKey: store.signedPreKey, oneTimePreKeys: oneTime)
        try await send(XML.Element("iq", namespace: Namespace.client, attributes: [XML.Attribute("type", value: "set"), XML.Attribute("id", value: "pub")], children: [.element(bundle.element)]))
        let reply = try await receive()
        guard reply.attribute("type") == "result" else { throw Unexpected("publish failed: \(reply)") }
        return store
    }
}
