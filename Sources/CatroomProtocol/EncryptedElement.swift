import CatroomXML

/// A fan-out message on the wire (xep/CR-0005 §6): CR-0002's fields in XML.
///
///     <encrypted xmlns='urn:catroom:e2e:0' id='base64 (16 bytes)' commitment='base64 (32 bytes)'>
///       <recipient id='account-id'/> ...          (every recipient, in every copy)
///       <key recipient='account-id'>base64</key> ...  (the server keeps only the addressee's)
///       <payload>base64</payload>
///     </encrypted>
///
/// The kind (room or private) and the room come from the enclosing stanza: a
/// `groupchat` message is a room message, a `chat` message to an occupant a side chat.
public struct EncryptedElement: Sendable, Equatable {
    public var messageID: [UInt8]
    public var commitment: [UInt8]
    public var recipients: [String]
    /// Encoded CR-0001 messages by recipient id.
    public var keys: [String: [UInt8]]
    public var payload: [UInt8]

    public init(messageID: [UInt8], commitment: [UInt8], recipients: [String], keys: [String: [UInt8]], payload: [UInt8]) {
        self.messageID = messageID
        self.commitment = commitment
        self.recipients = recipients
        self.keys = keys
        self.payload = payload
    }

    /// Parses the element, rejecting anything malformed.
    public init?(_ element: XML.Element) {
        guard element.name == "encrypted", element.namespace == Namespace.encrypted,
              let id = element.attribute("id").flatMap({ [UInt8](base64: $0) }), id.count == 16,
              let commitment = element.attribute("commitment").flatMap({ [UInt8](base64: $0) }), commitment.count == 32,
              let payload = element.firstChild(name: "payload", namespace: Namespace.encrypted).flatMap({ [UInt8](base64: $0.text) })
        else { return nil }
        var keys: [String: [UInt8]] = [:]
        for key in element.children(name: "key", namespace: Namespace.encrypted) {
            guard let recipient = key.attribute("recipient"), let bytes = [UInt8](base64: key.text), keys[recipient] == nil else { return nil }
            keys[recipient] = bytes
        }
        var recipients: [String] = []
        for recipient in element.children(name: "recipient", namespace: Namespace.encrypted) {
            guard let id = recipient.attribute("id") else { return nil }
            recipients.append(id)
        }
        // A key for someone who is not a recipient would be lost on the way: refuse it.
        guard keys.keys.allSatisfy(recipients.contains) else { return nil }
        self.init(messageID: id, commitment: commitment, recipients: recipients, keys: keys, payload: payload)
    }

    public var element: XML.Element {
        var element = XML.Element("encrypted", namespace: Namespace.encrypted, attributes: [
            XML.Attribute("id", value: messageID.base64), XML.Attribute("commitment", value: commitment.base64),
        ])
        for recipient in recipients {
            element.append(XML.Element("recipient", namespace: Namespace.encrypted, attributes: [XML.Attribute("id", value: recipient)]))
        }
        for recipient in recipients {
            if let key = keys[recipient] {
                element.append(XML.Element(
                    "key", namespace: Namespace.encrypted, attributes: [XML.Attribute("recipient", value: recipient)],
                    children: [.text(key.base64)]))
            }
        }
        element.append(XML.Element("payload", namespace: Namespace.encrypted, attributes: [], children: [.text(payload.base64)]))
        return element
    }

    /// The server's copy of an `<encrypted/>` element for one recipient: every
    /// `<key/>` addressed to someone else removed (CR-0005 §6.2).
    public static func copy(of element: XML.Element, for recipient: String) -> XML.Element {
        var copy = element
        copy.children = element.children.filter { node in
            guard case .element(let child) = node, child.name == "key", child.namespace == Namespace.encrypted else { return true }
            return child.attribute("recipient") == recipient
        }
        return copy
    }
}
