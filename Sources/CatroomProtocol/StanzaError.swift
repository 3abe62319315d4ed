import CatroomXML

/// A stanza error (RFC 6120 §8.3): a value that serialises straight to `<error/>`.
public struct StanzaError: Error, Hashable, Sendable {
    /// RFC 6120 §8.3.3 defined conditions.
    public enum Condition: String, Sendable, CaseIterable {
        case badRequest = "bad-request", conflict, featureNotImplemented = "feature-not-implemented", forbidden, gone
        case internalServerError = "internal-server-error", itemNotFound = "item-not-found", jidMalformed = "jid-malformed"
        case notAcceptable = "not-acceptable", notAllowed = "not-allowed", notAuthorized = "not-authorized"
        case policyViolation = "policy-violation", recipientUnavailable = "recipient-unavailable", redirect
        case registrationRequired = "registration-required", remoteServerNotFound = "remote-server-not-found"
        case remoteServerTimeout = "remote-server-timeout", resourceConstraint = "resource-constraint"
        case serviceUnavailable = "service-unavailable", subscriptionRequired = "subscription-required"
        case undefinedCondition = "undefined-condition", unexpectedRequest = "unexpected-request"

        /// The error type RFC 6120 §8.3.3 gives in its examples for each condition.
        var defaultType: ErrorType {
            switch self {
            case .badRequest, .jidMalformed, .notAcceptable, .policyViolation, .redirect: .modify
            case .forbidden, .notAuthorized, .registrationRequired, .subscriptionRequired: .auth
            case .resourceConstraint, .remoteServerTimeout, .recipientUnavailable, .unexpectedRequest: .wait
            default: .cancel
            }
        }
    }

    /// RFC 6120 §8.3.2 error types.
    public enum ErrorType: String, Sendable {
        case auth, cancel, `continue`, modify, wait
    }

    public var condition: Condition
    public var type: ErrorType
    /// Human-readable text; never echoes what the peer sent.
    public var text: String?
    /// An application-specific condition such as XEP-0205's `<stanza-too-big/>`.
    public var application: XML.Element?

    public init(_ condition: Condition, type: ErrorType? = nil, text: String? = nil, application: XML.Element? = nil) {
        self.condition = condition
        self.type = type ?? condition.defaultType
        self.text = text
        self.application = application
    }

    /// `<error type='...'><condition xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>[<text/>][app]</error>`
    public var element: XML.Element {
        var error = XML.Element("error", namespace: Namespace.client, attributes: [XML.Attribute("type", value: type.rawValue)])
        error.append(XML.Element(condition.rawValue, namespace: Namespace.stanzaErrors, attributes: []))
        if let text {
            error.append(XML.Element("text", namespace: Namespace.stanzaErrors, attributes: [], children: [.text(text)]))
        }
        if let application { error.append(application) }
        return error
    }
}
