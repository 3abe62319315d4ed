import CatroomProtocol
import CatroomXML
import Testing

/// Typed stanzas (RFC 6120 §8) and the replies the server makes to them.
struct StanzaTests {
    private func stanza(_ xml: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Stanza {
        try Stanza(try parse(xml, sourceLocation: sourceLocation))
    }

    // MARK: - Kinds and addresses

    @Test(arguments: [("message", Stanza.Kind.message), ("presence", .presence), ("iq", .iq)])
    func detectsTheKind(_ name: String, _ kind: Stanza.Kind) throws {
        #expect(try stanza("<\(name)/>").kind == kind)
    }

    @Test func readsAddressesIdAndType() throws {
        let iq = try stanza("<iq from='Alice@Example.com/Phone' to='example.com' id='q1' type='get'><ping xmlns='urn:xmpp:ping'/></iq>")
        #expect(iq.from == (try JID("alice@example.com/Phone")))
        #expect(iq.to == (try JID("example.com")))
        #expect(iq.id == "q1")
        #expect(iq.type == "get")
        #expect(!iq.hasMalformedRecipient)
        #expect(iq.payload?.name == "ping")
        #expect(iq.payload?.namespace == Namespace.ping)
    }

    @Test func hasNoAddressesWhenNoneAreGiven() throws {
        let message = try stanza("<message><body>hi</body></message>")
        #expect(message.from == nil)
        #expect(message.to == nil)
        #expect(message.id == nil)
        #expect(message.type == nil)
        #expect(!message.hasMalformedRecipient)
    }

    @Test func payloadIsTheFirstChildElementPastText() throws {
        let iq = try stanza("<iq type='set' id='1'>\n  <query xmlns='jabber:iq:register'/><other/></iq>")
        #expect(iq.payload?.name == "query")
        #expect(try stanza("<iq type='get' id='1'>text only</iq>").payload == nil)
    }

    @Test(arguments: ["jabber:server", "urn:other", ""])
    func rejectsAnotherNamespace(_ namespace: String) {
        let element = XML.Element("message", namespace: namespace, attributes: [])
        #expect(throws: StreamError(.invalidNamespace)) { try Stanza(element) }
    }

    @Test func rejectsAnotherNamespaceAsParsed() throws {
        let element = try parse("<message xmlns='jabber:server' to='a@b'/>")
        #expect(throws: StreamError(.invalidNamespace)) { try Stanza(element) }
    }

    @Test(arguments: ["body", "Message", "stream", "iqq", "starttls"])
    func rejectsAnUnsupportedStanzaType(_ name: String) throws {
        let element = try parse("<\(name)/>")
        #expect(throws: StreamError(.unsupportedStanzaType)) { try Stanza(element) }
    }

    @Test(arguments: ["", "@example.com", "alice@", "a@b/", "exa mple.com", "a@b@c"])
    func rejectsAMalformedSender(_ from: String) throws {
        let element = try parse("<message from='\(from)' to='bob@example.com'/>")
        #expect(throws: StreamError(.invalidFrom)) { try Stanza(element) }
    }

    @Test(arguments: ["", "@example.com", "bob@", "a@b/", "exa mple.com", "a@b@c"])
    func flagsAMalformedRecipientWithoutThrowing(_ to: String) throws {
        let message = try stanza("<message from='alice@example.com/r' to='\(to)' id='m1'/>")
        #expect(message.hasMalformedRecipient)
        #expect(message.to == nil)
        #expect(message.from == (try JID("alice@example.com/r")))
    }

    @Test func setFromAndSetToRewriteTheElement() throws {
        var message = try stanza("<message from='mallory@evil.example' to='bob@example.com' id='m1'/>")
        message.setFrom(try JID("alice@example.com/phone"))
        #expect(message.from == (try JID("alice@example.com/phone")))
        #expect(message.element.attribute("from") == "alice@example.com/phone")
        message.setTo(nil)
        #expect(message.to == nil)
        #expect(message.element.attribute("to") == nil)
        #expect(message.element.attributes.map(\.name) == ["from", "id"])
    }

    // MARK: - isResponse (RFC 6120 §8.2.3, §8.3.1)

    @Test(arguments: [
        ("<iq type='result' id='1'/>", true), ("<iq type='error' id='1'/>", true),
        ("<message type='error'/>", true), ("<presence type='error'/>", true),
        ("<iq type='get' id='1'/>", false), ("<iq type='set' id='1'/>", false),
        ("<message type='chat'/>", false), ("<message/>", false), ("<presence/>", false),
        ("<message type='result'/>", false), ("<presence type='unavailable'/>", false),
    ])
    func knowsWhichStanzasAreResponses(_ xml: String, _ isResponse: Bool) throws {
        #expect(try stanza(xml).isResponse == isResponse)
    }

    // MARK: - errorReply (RFC 6120 §8.3.1)

    @Test func errorReplySwapsAddressesAndKeepsTheID() throws {
        let iq = try stanza("<iq from='alice@example.com/phone' to='example.com' id='q7' type='get'><query xmlns='urn:example'/></iq>")
        let reply = try #require(iq.errorReply(StanzaError(.serviceUnavailable)))
        #expect(reply.serializedString(inheritedNamespace: Namespace.client) ==
            "<iq type='error' id='q7' from='example.com' to='alice@example.com/phone'>"
            + "<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
            + "</iq>")
    }

    @Test func errorReplyNeverEchoesThePayload() throws {
        let message = try stanza(
            "<message from='alice@example.com/phone' to='room@rooms.example.com' type='groupchat' id='m1'>"
            + "<body>a very long body</body><x xmlns='urn:example'/></message>")
        let reply = try #require(message.errorReply(StanzaError(.forbidden, text: "no")))
        #expect(reply.name == "message")
        #expect(reply.namespace == Namespace.client)
        #expect(reply.attribute("type") == "error")
        #expect(reply.childElements.map(\.name) == ["error"])
        #expect(!reply.serializedString().contains("a very long body"))
    }

    @Test func errorReplyKeepsTheStanzaName() throws {
        for name in ["message", "presence", "iq"] {
            let reply = try stanza("<\(name) from='a@b/c' id='x'/>").errorReply(StanzaError(.badRequest))
            #expect(reply?.name == name)
        }
    }

    @Test func errorReplyOmitsWhatTheStanzaLacked() throws {
        let message = try stanza("<message><body>x</body></message>")
        let reply = try #require(message.errorReply(StanzaError(.badRequest)))
        #expect(reply.attributes.map(\.name) == ["type"])
    }

    @Test func errorReplyToAMalformedRecipientHasNoSender() throws {
        let message = try stanza("<message from='alice@example.com/r' to='bob@' id='m1'/>")
        let reply = try #require(message.errorReply(StanzaError(.jidMalformed)))
        #expect(reply.attribute("from") == nil)
        #expect(reply.attribute("to") == "alice@example.com/r")
        #expect(reply.attribute("id") == "m1")
        #expect(reply.firstChild(name: "error", namespace: Namespace.client)?.attribute("type") == "modify")
    }

    @Test func errorReplyUsesNormalisedAddresses() throws {
        let message = try stanza("<message from='Alice@Example.com./R' to='BOB@example.com' id='m1'/>")
        let reply = try #require(message.errorReply(StanzaError(.itemNotFound)))
        #expect(reply.attribute("from") == "bob@example.com")
        #expect(reply.attribute("to") == "alice@example.com/R")
    }

    @Test(arguments: ["<iq type='error' id='1'/>", "<message type='error'/>", "<presence type='error'/>"])
    func neverAnswersAnError(_ xml: String) throws {
        #expect(try stanza(xml).errorReply(StanzaError(.serviceUnavailable)) == nil)
    }

    /// RFC 6120 §8.2.3: "An entity that receives a stanza of type 'result' or 'error' MUST NOT
    /// respond to the stanza by sending a further IQ response of type 'result' or 'error'."
    @Test func neverAnswersAnIQResult() throws {
        let result = try stanza("<iq from='alice@example.com/r' to='example.com' type='result' id='1'/>")
        #expect(result.isResponse)
        #expect(result.errorReply(StanzaError(.serviceUnavailable)) == nil)
    }

    // MARK: - result (RFC 6120 §8.2.3)

    @Test func resultSwapsAddressesAndKeepsTheID() throws {
        let iq = try stanza("<iq from='alice@example.com/phone' to='example.com' id='q1' type='get'><ping xmlns='urn:xmpp:ping'/></iq>")
        #expect(iq.result().serializedString(inheritedNamespace: Namespace.client) ==
            "<iq type='result' id='q1' from='example.com' to='alice@example.com/phone'/>")
    }

    @Test func resultCarriesThePayload() throws {
        let iq = try stanza("<iq from='alice@example.com/phone' id='q2' type='get'><query xmlns='jabber:iq:roster'/></iq>")
        let payload = XML.Element("query", namespace: Namespace.roster, attributes: ["ver": "1"])
        let result = iq.result(payload)
        #expect(result.attribute("from") == nil)
        #expect(result.attribute("to") == "alice@example.com/phone")
        #expect(result.childElements == [payload])
        #expect(result.serializedString(inheritedNamespace: Namespace.client) ==
            "<iq type='result' id='q2' to='alice@example.com/phone'><query xmlns='jabber:iq:roster' ver='1'/></iq>")
    }
}
