import CatroomProtocol
import CatroomXML
import Testing

/// Stanza errors (RFC 6120 §8.3) as values that serialise to `<error/>`.
struct StanzaErrorTests {
    @Test func serialisesTheConditionInTheStanzasNamespace() {
        let error = StanzaError(.itemNotFound)
        #expect(error.element.serializedString(inheritedNamespace: Namespace.client) ==
            "<error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>")
        #expect(error.element.name == "error")
        #expect(error.element.namespace == "jabber:client")
    }

    @Test func serialisesTextAfterTheCondition() {
        let error = StanzaError(.notAllowed, text: "rooms are invite-only & <closed>")
        #expect(error.element.serializedString(inheritedNamespace: Namespace.client) ==
            "<error type='cancel'><not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
            + "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>rooms are invite-only &amp; &lt;closed&gt;</text></error>")
    }

    @Test func serialisesTheApplicationConditionLast() {
        let tooBig = XML.Element("stanza-too-big", namespace: Namespace.xmppErrors, attributes: [])
        let error = StanzaError(.policyViolation, text: "limit", application: tooBig)
        let children = error.element.childElements
        #expect(children.map(\.name) == ["policy-violation", "text", "stanza-too-big"])
        #expect(children.map(\.namespace) == [Namespace.stanzaErrors, Namespace.stanzaErrors, "urn:xmpp:errors"])
        #expect(error.element.serializedString(inheritedNamespace: Namespace.client) ==
            "<error type='modify'><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
            + "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>limit</text><stanza-too-big xmlns='urn:xmpp:errors'/></error>")
    }

    @Test func anExplicitTypeWins() {
        let error = StanzaError(.policyViolation, type: .wait)
        #expect(error.type == .wait)
        #expect(error.element.attribute("type") == "wait")
        #expect(StanzaError(.badRequest, type: .continue).element.attribute("type") == "continue")
    }

    @Test func conditionNamesAreRFC6120s() {
        #expect(StanzaError.Condition.allCases.count == 22)
        #expect(StanzaError.Condition.allCases.map(\.rawValue) == [
            "bad-request", "conflict", "feature-not-implemented", "forbidden", "gone",
            "internal-server-error", "item-not-found", "jid-malformed", "not-acceptable", "not-allowed",
            "not-authorized", "policy-violation", "recipient-unavailable", "redirect", "registration-required",
            "remote-server-not-found", "remote-server-timeout", "resource-constraint", "service-unavailable",
            "subscription-required", "undefined-condition", "unexpected-request",
        ])
    }

    /// The type each RFC 6120 §8.3.3.x says the condition SHOULD have (the first, where two are allowed).
    static let rfc6120Types: [(StanzaError.Condition, StanzaError.ErrorType)] = [
        (.badRequest, .modify),               // §8.3.3.1
        (.conflict, .cancel),                 // §8.3.3.2
        (.featureNotImplemented, .cancel),    // §8.3.3.3 "cancel" or "modify"
        (.forbidden, .auth),                  // §8.3.3.4
        (.gone, .cancel),                     // §8.3.3.5
        (.internalServerError, .cancel),      // §8.3.3.6
        (.itemNotFound, .cancel),             // §8.3.3.7
        (.jidMalformed, .modify),             // §8.3.3.8
        (.notAcceptable, .modify),            // §8.3.3.9
        (.notAllowed, .cancel),               // §8.3.3.10
        (.notAuthorized, .auth),              // §8.3.3.11
        (.policyViolation, .modify),          // §8.3.3.12 "modify" or "wait"
        (.recipientUnavailable, .wait),       // §8.3.3.13
        (.redirect, .modify),                 // §8.3.3.14
        (.registrationRequired, .auth),       // §8.3.3.15
        (.remoteServerNotFound, .cancel),     // §8.3.3.16
        (.remoteServerTimeout, .wait),        // §8.3.3.17
        (.resourceConstraint, .wait),         // §8.3.3.18
        (.serviceUnavailable, .cancel),       // §8.3.3.19
        (.subscriptionRequired, .auth),       // §8.3.3.20
        (.undefinedCondition, .cancel),       // §8.3.3.21 any type
        (.unexpectedRequest, .wait),          // §8.3.3.22 "wait" or "modify"
    ]

    @Test func everyConditionHasAnExpectedType() {
        #expect(Set(Self.rfc6120Types.map(\.0.rawValue)) == Set(StanzaError.Condition.allCases.map(\.rawValue)))
    }

    @Test(arguments: rfc6120Types)
    func defaultTypeIsRFC6120s(_ condition: StanzaError.Condition, _ type: StanzaError.ErrorType) {
        #expect(StanzaError(condition).type == type)
        #expect(StanzaError(condition).element.attribute("type") == type.rawValue)
    }

    @Test func errorsCompareByValue() {
        #expect(StanzaError(.conflict) == StanzaError(.conflict, type: .cancel))
        #expect(StanzaError(.conflict) != StanzaError(.conflict, text: "x"))
    }
}
