import CatroomCrypto
import CatroomProtocol
import CatroomXML

// Stanzas and the elements inside them (Sources/CatroomProtocol). Input: one control
// byte, then what a client sends after its stream header. Every top-level element is
// tried as a `Stanza`, and it and every element below it as each decoder. Invariants:
// - what decodes re-encodes to an element that decodes to the same value, in memory
//   and through bytes (serialise, parse, decode);
// - JIDs and room names are idempotent: parsing a printed one gives it back;
// - replies to a stanza are well formed and never echo its payload;
// - stanza and stream errors built with any condition and text parse back to them;
// - only the seeds' genuine signatures verify: a key-possession signature only with the
//   seed's key and nonce, a signed prekey only with the seed's identity key.

extension FuzzTarget {
    static let stanza = FuzzTarget(name: "stanza", run: { bytes in
        var input = FuzzInput(bytes)
        let control = input.byte()
        let parser = XML.StreamParser()
        guard case .success(let events) = Result(catching: { () throws(XML.StreamError) in
            try parser.feed(StanzaCheck.header + input.remaining())
        }) else { return }
        var budget = 256  // elements checked per input, so that one input stays fast
        for case .element(let element) in events {
            if let stanza = try? Stanza(element) { StanzaCheck.checkStanza(stanza, control: control) }
            StanzaCheck.visit(element, budget: &budget, control: control)
        }
    }, seeds: { StanzaCheck.seeds() })
}

enum StanzaCheck {
    static let header = Array(
        "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.org' version='1.0'>".utf8)

    /// The one element the bytes serialise, parsed again.
    static func reparsed(_ element: XML.Element) -> XML.Element? {
        let parser = XML.StreamParser()
        guard let events = try? parser.feed(header + element.serialized(inheritedNamespace: "jabber:client")),
              events.count == 2, case .element(let reparsed) = events[1]
        else { return nil }
        return reparsed
    }

    /// `decode(encode(value)) == value` in memory and through bytes.
    static func checkRoundTrip<T: Equatable>(_ value: T, _ encode: (T) -> XML.Element, _ decode: (XML.Element) -> T?, _ name: String) {
        let element = encode(value)
        invariant(decode(element) == value, "\(name) does not decode from its own element \(element)")
        guard let reparsed = reparsed(element) else {
            return invariant(false, "\(name)'s element does not parse: \(element)")
        }
        invariant(decode(reparsed) == value, "\(name) does not survive serialisation: \(element)")
    }

    static func checkStanza(_ stanza: Stanza, control: UInt8) {
        for jid in [stanza.from, stanza.to].compactMap({ $0 }) { checkJID(jid) }
        let error = StanzaError(StanzaError.Condition.allCases[Int(control) % StanzaError.Condition.allCases.count])
        if let reply = stanza.errorReply(error) {
            invariant(!stanza.isResponse, "an error or result was answered")
            invariant(reply.childElements == [error.element], "an error reply carries more than the error")
            invariant(reparsed(reply) == reply, "an error reply does not survive serialisation")
        } else {
            invariant(stanza.isResponse, "a request got no error reply")
        }
        let result = stanza.result()
        invariant(result.childElements.isEmpty && reparsed(result) == result, "an IQ result does not survive serialisation")
    }

    static func checkJID(_ jid: JID) {
        guard let again = try? JID(jid.description) else { return invariant(false, "a JID does not parse its own text: \(jid)") }
        invariant(again == jid && again.description == jid.description, "a JID changes when parsed again: \(jid)")
        invariant(jid.bare.isBare && jid.bare.domain == jid.domain && jid.bare.localpart == jid.localpart, "bare changes the JID")
    }

    /// Checks `element` and its descendants against every decoder, `budget` elements at most.
    static func visit(_ element: XML.Element, budget: inout Int, control: UInt8) {
        guard budget > 0 else { return }
        budget -= 1
        checkDecoders(element, control: control)
        for attribute in element.attributes { checkText(attribute.value) }
        if !element.text.isEmpty { checkText(element.text) }
        for child in element.childElements { visit(child, budget: &budget, control: control) }
    }

    static func checkDecoders(_ element: XML.Element, control: UInt8) {
        if let form = DataForm(element) {
            checkRoundTrip(form, \.element, DataForm.init, "a data form")
            checkRegistration(form)
        }
        if let bundle = try? BundleElement(element) {
            checkRoundTrip(bundle, \.element, { try? BundleElement($0) }, "a bundle")
            // What X3DH checks before any DH (CR-0001 §5.2): only prekeys someone signed verify.
            if bundle.signedPreKey.isSigned(by: bundle.identityKey) {
                let signed = bundle.identityKey.bytes + bundle.signedPreKey.publicKey.bytes + bundle.signedPreKey.signature
                invariant(Genuine.shared.signedPreKeys.contains(signed), "a signed prekey nobody signed verifies")
            }
        }
        if let encrypted = EncryptedElement(element) {
            checkRoundTrip(encrypted, \.element, EncryptedElement.init, "an <encrypted/> element")
            for recipient in encrypted.recipients {
                let copy = EncryptedElement(EncryptedElement.copy(of: element, for: recipient))
                invariant(copy?.keys.keys.allSatisfy { $0 == recipient } == true, "a recipient's copy holds another's key")
            }
        }
        if let notice = LowStockNotice(element) {
            invariant(notice.remaining >= 0 && notice.remaining < LowStockNotice.threshold, "a low-stock notice out of range")
            invariant((1...BundleElement.capacity).contains(notice.refill), "a refill that does not fit")
            checkRoundTrip(notice, \.element, LowStockNotice.init, "a low-stock notice")
        }
        let application = element.childElements.first
        let text = element.text.isEmpty ? nil : element.text
        let stanzaError = StanzaError(
            StanzaError.Condition.allCases[Int(control) % StanzaError.Condition.allCases.count], text: text, application: application)
        invariant(reparsed(stanzaError.element) == stanzaError.element, "a stanza error does not survive serialisation")
        let streamError = CatroomProtocol.StreamError(
            CatroomProtocol.StreamError.Condition.allCases[Int(control) % CatroomProtocol.StreamError.Condition.allCases.count],
            text: text, application: application)
        invariant(reparsed(streamError.element) == streamError.element, "a stream error does not survive serialisation")
    }

    /// The registration form's key-possession fields (CR-0003 §5.2), read as the server reads them.
    static func checkRegistration(_ form: DataForm) {
        guard let key = form.value("identity-key").flatMap({ [UInt8](base64: $0) }).flatMap({ try? IdentityKey(bytes: $0) }),
              let signature = form.value("signature").flatMap({ [UInt8](base64: $0) })
        else { return }
        let nonce = form.value("challenge").flatMap { [UInt8](base64: $0) } ?? []
        if KeyPossession.isValid(signature, identityKey: key, domain: "example.org", streamID: "s1", nonce: nonce) {
            let genuine = Genuine.shared
            invariant(
                key == genuine.identity.publicKey && nonce == genuine.nonce && signature == genuine.signature,
                "a key-possession signature verifies that the seed's key never made for that nonce")
        }
    }

    /// Any attribute value or text, as a JID and as a room name.
    static func checkText(_ text: String) {
        guard text.utf8.count <= 2048 else { return }
        if let jid = try? JID(text) { checkJID(jid) }
        if let name = try? RoomName.canonical(text) {
            invariant((try? RoomName.canonical(name)) == name, "a canonical room name is not canonical: \(name)")
            guard let address = try? RoomName.address(name, service: JID(localpart: nil, domain: "rooms.example.org")) else {
                return invariant(false, "a canonical room name has no address: \(name)")
            }
            checkJID(address)
            invariant(address.localpart == name, "a room's address does not hold its canonical name")
        }
    }
}

// MARK: - Seeds

extension StanzaCheck {
    /// The identity that signs the seeds, with what it signed.
    struct Genuine: Sendable {
        static let shared = Genuine()

        let identity: IdentityKeyPair
        let nonce: [UInt8]
        let signature: [UInt8]
        let signedPreKey: SignedPreKey
        let oneTimePreKeys: [OneTimePreKey]
        /// The seeds' entropy after these, for the rest of the seeds.
        let entropy: FuzzEntropy
        /// Identity key, signed prekey and signature of every genuine signed prekey in the seeds:
        /// the seed's and the CR-0004 §5.3 example's.
        let signedPreKeys: Set<[UInt8]>

        private init() {
            var entropy = FuzzEntropy(label: "stanza seeds")
            identity = IdentityKeyPair.generate(using: &entropy)
            nonce = entropy.bytes(count: KeyPossession.challengeCount)
            signature = KeyPossession.signature(by: identity, domain: "example.org", streamID: "s1", nonce: nonce)
            var preKeys = PreKeyStore(identity: identity, using: &entropy)
            oneTimePreKeys = preKeys.generateOneTimePreKeys(count: 2, using: &entropy)
            signedPreKey = preKeys.signedPreKey
            self.entropy = entropy
            let example = [
                "GLaJujpMxthinEd9cwViQeM9bs/M4/N6HAe3TWdKaTs=", "NwUcxq3bcxLojWsJLltbxfXTtxbKR+582CV8kkqwxWg=",
                "R0LXhywjLJzYyWpoVWZO6Yj5HnkQTJDA9u6Z9i7B5zjEPngA6yiRTQqhgeMLGcDsRZkyMYnB8aTM5tlt4j+UCg==",
            ].compactMap { [UInt8](base64: $0) }.joined()
            signedPreKeys = [identity.publicKey.bytes + signedPreKey.publicKey.bytes + signedPreKey.signature, Array(example)]
        }
    }

    /// Stanzas whose keys and signatures must be real for the decoders to accept them.
    static func seeds() -> [String: [UInt8]] {
        let genuine = Genuine.shared
        let (identity, nonce, signature) = (genuine.identity, genuine.nonce, genuine.signature)
        var entropy = genuine.entropy
        let form = DataForm(type: "submit", fields: [
            .init("FORM_TYPE", type: "hidden", values: ["urn:catroom:register:0"]),
            .init("challenge", type: "hidden", values: [nonce.base64]),
            .init("identity-key", values: [identity.publicKey.bytes.base64]),
            .init("signature", values: [signature.base64]),
        ])
        let register = XML.Element("iq", namespace: "jabber:client", attributes: ["type": "set", "id": "reg1"]) {
            XML.Element("query", namespace: "jabber:iq:register") { form.element }
        }
        let bundle = BundleElement(identityKey: identity.publicKey, signedPreKey: genuine.signedPreKey, oneTimePreKeys: genuine.oneTimePreKeys)
        let publish = XML.Element("iq", namespace: "jabber:client", attributes: ["type": "set", "id": "pub1"]) {
            XML.Element("publish", namespace: "urn:catroom:bundles:0") { bundle.element }
        }
        let encrypted = EncryptedElement(
            messageID: entropy.bytes(count: 16), commitment: entropy.bytes(count: 32), recipients: ["bob", "carol"],
            keys: ["bob": entropy.bytes(count: 120), "carol": entropy.bytes(count: 120)], payload: entropy.bytes(count: 80))
        let groupchat = XML.Element(
            "message", namespace: "jabber:client", attributes: ["to": "lobby@rooms.example.org", "type": "groupchat", "id": "m1"]
        ) { encrypted.element }
        let lowStock = XML.Element("message", namespace: "jabber:client", attributes: ["from": "example.org", "to": "a@example.org/x"]) {
            LowStockNotice(remaining: 3).element
        }
        return [
            "register-key": register.serialized(inheritedNamespace: "jabber:client"),
            "publish-bundle": publish.serialized(inheritedNamespace: "jabber:client"),
            "groupchat-encrypted": groupchat.serialized(inheritedNamespace: "jabber:client"),
            "low-stock": lowStock.serialized(inheritedNamespace: "jabber:client"),
        ].mapValues { [0] + $0 }
    }
}
