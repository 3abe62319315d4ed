import CatroomXML

/// A stream error (RFC 6120 §4.9): sent as `<stream:error/>`, after which the stream closes.
public struct StreamError: Error, Hashable, Sendable {
    /// RFC 6120 §4.9.3 defined conditions.
    public enum Condition: String, Sendable, CaseIterable {
        case badFormat = "bad-format", badNamespacePrefix = "bad-namespace-prefix", conflict
        case connectionTimeout = "connection-timeout", hostGone = "host-gone", hostUnknown = "host-unknown"
        case improperAddressing = "improper-addressing", internalServerError = "internal-server-error"
        case invalidFrom = "invalid-from", invalidNamespace = "invalid-namespace", invalidXML = "invalid-xml"
        case notAuthorized = "not-authorized", notWellFormed = "not-well-formed", policyViolation = "policy-violation"
        case remoteConnectionFailed = "remote-connection-failed", reset, resourceConstraint = "resource-constraint"
        case restrictedXML = "restricted-xml", seeOtherHost = "see-other-host", systemShutdown = "system-shutdown"
        case undefinedCondition = "undefined-condition", unsupportedEncoding = "unsupported-encoding"
        case unsupportedFeature = "unsupported-feature", unsupportedStanzaType = "unsupported-stanza-type"
        case unsupportedVersion = "unsupported-version"
    }

    public var condition: Condition
    public var text: String?
    /// An application-specific condition, e.g. `<stanza-too-big xmlns='urn:xmpp:errors'/>`.
    public var application: XML.Element?

    public init(_ condition: Condition, text: String? = nil, application: XML.Element? = nil) {
        self.condition = condition
        self.text = text
        self.application = application
    }

    /// Maps a parser failure to the condition RFC 6120 §4.9.3 names for it.
    public init(_ error: XML.StreamError) {
        switch error {
        case .notWellFormed: self.init(Condition.notWellFormed)
        case .restrictedXML: self.init(Condition.restrictedXML)
        case .unsupportedEncoding: self.init(Condition.unsupportedEncoding)
        case .unsupportedVersion: self.init(Condition.unsupportedVersion, text: "XML 1.0 only")
        case .resourceConstraint: self.init(Condition.resourceConstraint)
        case .policyViolation(let policy): self.init(Condition.policyViolation, text: policy.rawValue)
        case .stanzaTooBig:
            // XEP-0205 §4.5 and Prosody: policy-violation with <stanza-too-big/>.
            self.init(Condition.policyViolation, application: XML.Element("stanza-too-big", namespace: Namespace.xmppErrors, attributes: []))
        }
    }

    /// `<stream:error><condition xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>[<text/>][app]</stream:error>`
    public var element: XML.Element {
        var error = XML.Element("error", namespace: Namespace.stream, attributes: [])
        error.append(XML.Element(condition.rawValue, namespace: Namespace.streamErrors, attributes: []))
        if let text {
            error.append(XML.Element("text", namespace: Namespace.streamErrors, attributes: [], children: [.text(text)]))
        }
        if let application { error.append(application) }
        return error
    }
}
