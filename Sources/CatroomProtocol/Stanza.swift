import CatroomXML

/// A typed view of a top-level `message`, `presence` or `iq` in `jabber:client` (RFC 6120 §8).
public struct Stanza: Sendable {
    public enum Kind: String, Sendable {
        case message, presence, iq
    }

    public var element: XML.Element
    public let kind: Kind
    public private(set) var from: JID?
    public private(set) var to: JID?
    /// True when `to` was present but not a valid JID: the router answers `jid-malformed`.
    public let hasMalformedRecipient: Bool

    /// Checks the element is a stanza: `unsupported-stanza-type` for any other name,
    /// `invalid-namespace` for another namespace, `invalid-from` for a malformed sender.
    public init(_ element: XML.Element) throws(StreamError) {
        guard element.namespace == Namespace.client else { throw StreamError(.invalidNamespace) }
        guard let kind = Kind(rawValue: element.name) else { throw StreamError(.unsupportedStanzaType) }
        self.element = element
        self.kind = kind
        if let from = element.attribute("from") {
            guard let jid = try? JID(from) else { throw StreamError(.invalidFrom) }
            self.from = jid
        }
        var malformed = false
        if let to = element.attribute("to") {
            if let jid = try? JID(to) { self.to = jid } else { malformed = true }
        }
        hasMalformedRecipient = malformed
    }

    public var id: String? { element.attribute("id") }
    public var type: String? { element.attribute("type") }

    /// An `error` or `result` is never answered (RFC 6120 §8.3.1, §8.2.3).
    public var isResponse: Bool { type == "error" || (kind == .iq && type == "result") }

    public mutating func setFrom(_ jid: JID?) {
        from = jid
        element[attribute: "from"] = jid?.description
    }

    public mutating func setTo(_ jid: JID?) {
        to = jid
        element[attribute: "to"] = jid?.description
    }

    /// The first child element, which names an IQ's payload (RFC 6120 §8.2.3: exactly one for get and set).
    public var payload: XML.Element? { element.childElements.first }

    // MARK: - Replies

    /// The error reply (RFC 6120 §8.3.1): same name and id, addresses swapped, type `error`.
    /// The original payload is not echoed, so an oversized or hostile stanza is never reflected.
    /// nil for stanzas that must not be answered.
    public func errorReply(_ error: StanzaError) -> XML.Element? {
        guard !isResponse else { return nil }
        var reply = XML.Element(element.name, namespace: Namespace.client, attributes: [XML.Attribute("type", value: "error")])
        reply[attribute: "id"] = id
        reply[attribute: "from"] = to?.description
        reply[attribute: "to"] = from?.description
        reply.append(error.element)
        return reply
    }

    /// An IQ result (RFC 6120 §8.2.3) with an optional payload.
    public func result(_ payload: XML.Element? = nil) -> XML.Element {
        var reply = XML.Element("iq", namespace: Namespace.client, attributes: [XML.Attribute("type", value: "result")])
        reply[attribute: "id"] = id
        reply[attribute: "from"] = to?.description
        reply[attribute: "to"] = from?.description
        if let payload { reply.append(payload) }
        return reply
    }
}
