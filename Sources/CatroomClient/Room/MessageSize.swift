import CatroomCrypto
import CatroomProtocol
import CatroomXML

/// How long a message may be (CR-0006 §5.5): sealed for every recipient, its stanza
/// must fit the server's stanza cap (CR-0005 §6.3), as announced (XEP-0478), and each
/// recipient's copy must fit what this client's parser reads.
enum MessageSize {
    /// The longest CR-0002 entry (§7.3): an initial CR-0001 message with a one-time
    /// prekey (a 115-byte header, CR-0001 §5.5) sealing K, with its tag.
    static let maximumEntryBytes = 115 + Fanout.payloadKeyCount + XChaCha20Poly1305.tagCount
    /// Without an announced cap: the smallest CR-0005 §6.3 allows.
    static let minimumStanzaCap = 16384 + 330
    /// A copy as delivered gains a `from` and another `to` (CR-0005 §6.2): two JIDs of
    /// at most 3071 bytes each (RFC 7622 §3.1), in attributes.
    static let deliveryGrowth = 2 * (3071 + " from=''".utf8.count)

    struct TooLong: Error, CustomStringConvertible {
        let bytes: Int
        let limit: Int
        var description: String { "message too long: \(bytes) bytes, the limit is \(limit)" }
    }

    /// Throws `TooLong` unless `payload`, sealed to `recipients` whatever their entries'
    /// sizes, fits in one stanza. Its body's size is counted as carried: in JSON.
    static func check(_ payload: ChatPayload, recipients: [String], to address: JID, type: String, stanzaCap: Int) throws {
        var empty = payload
        empty.body = ""
        let envelope = empty.json().count
        let body = payload.json().count - envelope
        let limit = bodyLimit(envelope: envelope, recipients: recipients, to: address, type: type, stanzaCap: stanzaCap)
        if body > limit { throw TooLong(bytes: body, limit: max(limit, 0)) }
    }

    /// The most body bytes a payload with this `envelope` (its JSON with an empty body) can carry.
    static func bodyLimit(envelope: Int, recipients: [String], to address: JID, type: String, stanzaCap: Int) -> Int {
        let cap = min(stanzaCap, XML.StreamParser.Limits().maxElementBytes - deliveryGrowth)
        // The stanza with the longest entries and a 3-byte payload (4 base64 characters).
        let standIn = EncryptedElement(
            messageID: [UInt8](repeating: 0, count: FanoutContext.messageIDCount),
            commitment: [UInt8](repeating: 0, count: FanoutContext.commitmentCount), recipients: recipients,
            keys: Dictionary(uniqueKeysWithValues: recipients.map { ($0, [UInt8](repeating: 0, count: maximumEntryBytes)) }),
            payload: [0, 0, 0])
        let fixed = standIn.message(to: address, type: type).serialized(inheritedNamespace: Namespace.client).count - 4
        // The payload is base64 (4 characters per 3 bytes) of the padded JSON and its tag (CR-0002 §5.3, CR-0006 §5.3).
        let ciphertext = (cap - fixed) / 4 * 3
        let plaintext = (ciphertext - XChaCha20Poly1305.tagCount) / ChatPayload.padding * ChatPayload.padding
        return plaintext - envelope
    }
}

extension EncryptedElement {
    /// The `<message/>` that carries it to `address` (CR-0005 §5.3, §5.4), its id the message id in hex.
    func message(to address: JID, type: String) -> XML.Element {
        XML.Element("message", namespace: Namespace.client, attributes: [
            XML.Attribute("to", value: address.description), XML.Attribute("type", value: type), XML.Attribute("id", value: messageID.hexString),
        ], children: [.element(element)])
    }
}
