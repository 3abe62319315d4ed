import CatroomProtocol
import CatroomXML
import Testing

/// Stream errors (RFC 6120 §4.9) and how parser failures map onto them.
struct StreamErrorTests {
    private static let stream = "http://etherx.jabber.org/streams"
    private static let streams = "urn:ietf:params:xml:ns:xmpp-streams"

    @Test func serialisesAsStreamErrorWithTheConditionInTheStreamsNamespace() {
        let element = StreamError(.hostUnknown).element
        #expect(element.name == "error")
        #expect(element.namespace == Self.stream)
        #expect(element.childElements.map(\.name) == ["host-unknown"])
        #expect(element.childElements.map(\.namespace) == [Self.streams])
        #expect(element.serializedString(inheritedNamespace: Self.stream) ==
            "<error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></error>")
    }

    @Test func serialisesTextAndApplicationConditionInOrder() {
        let application = XML.Element("stanza-too-big", namespace: "urn:xmpp:errors", attributes: [])
        let element = StreamError(.policyViolation, text: "too big", application: application).element
        #expect(element.serializedString(inheritedNamespace: Self.stream) ==
            "<error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
            + "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>too big</text>"
            + "<stanza-too-big xmlns='urn:xmpp:errors'/></error>")
    }

    @Test func conditionNamesAreRFC6120s() {
        #expect(StreamError.Condition.allCases.count == 25)
        #expect(StreamError.Condition.allCases.map(\.rawValue) == [
            "bad-format", "bad-namespace-prefix", "conflict", "connection-timeout", "host-gone", "host-unknown",
            "improper-addressing", "internal-server-error", "invalid-from", "invalid-namespace", "invalid-xml",
            "not-authorized", "not-well-formed", "policy-violation", "remote-connection-failed", "reset",
            "resource-constraint", "restricted-xml", "see-other-host", "system-shutdown", "undefined-condition",
            "unsupported-encoding", "unsupported-feature", "unsupported-stanza-type", "unsupported-version",
        ])
    }

    // MARK: - From XML.StreamError

    @Test func stanzaTooBigIsPolicyViolationWithXEP0205Condition() {
        let error = StreamError(XML.StreamError.stanzaTooBig)
        #expect(error.condition == .policyViolation)
        #expect(error.text == nil)
        #expect(error.application == XML.Element("stanza-too-big", namespace: "urn:xmpp:errors", attributes: []))
        #expect(error.element.serializedString(inheritedNamespace: Self.stream) ==
            "<error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><stanza-too-big xmlns='urn:xmpp:errors'/></error>")
    }

    @Test(arguments: [
        (XML.StreamError.notWellFormed, StreamError.Condition.notWellFormed),
        (.restrictedXML, .restrictedXML),
        (.unsupportedEncoding, .unsupportedEncoding),
        (.unsupportedVersion, .unsupportedVersion),
        (.resourceConstraint, .resourceConstraint),
        (.policyViolation(.depthExceeded), .policyViolation),
        (.policyViolation(.tooManyAttributes), .policyViolation),
        (.stanzaTooBig, .policyViolation),
    ])
    func mapsParserFailuresToTheirConditions(_ failure: XML.StreamError, _ condition: StreamError.Condition) {
        #expect(StreamError(failure).condition == condition)
    }

    @Test func plainParserFailuresCarryNoApplicationCondition() {
        for failure in [XML.StreamError.notWellFormed, .restrictedXML, .unsupportedEncoding, .unsupportedVersion, .resourceConstraint] {
            #expect(StreamError(failure).application == nil)
        }
        #expect(StreamError(XML.StreamError.notWellFormed).text == nil)
        #expect(StreamError(XML.StreamError.unsupportedVersion).text == "XML 1.0 only")
    }

    /// The text names the limit in the words `XML.StreamError.Policy` gives it for people.
    @Test(arguments: [
        XML.StreamError.Policy.depthExceeded, .tooManyAttributes, .nameTooLong, .attributeValueTooLong,
    ])
    func policyViolationTextNamesTheLimit(_ policy: XML.StreamError.Policy) {
        let error = StreamError(XML.StreamError.policyViolation(policy))
        #expect(error.text == policy.rawValue)
        #expect(error.application == nil)
    }
}
