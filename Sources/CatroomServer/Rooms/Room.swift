import CatroomCrypto
import CatroomProtocol
import CatroomXML

/// A room (XEP-0045 subset, CR-0005): its occupants and rules, as a value whose
/// operations return the stanzas to deliver. It exists while someone is in it.
struct Room: Sendable {
    struct Occupant: Sendable {
        /// The occupant's nick: its account's localpart (the key-derived id).
        let nick: String
        let session: Session
        /// room@domain/nick, as the others see it.
        let address: JID
    }

    let jid: JID
    /// In join order.
    private(set) var occupants: [Occupant] = []
    /// SHA-256 of the password the creator set, if any.
    let passwordDigest: [UInt8]?
    let maxOccupants: Int

    init(jid: JID, password: String?, maxOccupants: Int) {
        self.jid = jid
        passwordDigest = password.map { SHA256.hash(Array($0.utf8)) }
        self.maxOccupants = maxOccupants
    }

    var isEmpty: Bool { occupants.isEmpty }

    func occupant(nick: String) -> Occupant? { occupants.first { $0.nick == nick } }

    func occupant(session jid: JID) -> Occupant? { occupants.first { $0.session.jid == jid } }

    /// The refusal past `maxOccupants` (CR-0005 §5.1).
    static let full = StanzaError(.serviceUnavailable, text: "room is full")

    // MARK: - Joining (XEP-0045 §7.2)

    /// Admits `session` as `nick`, or says why not. The presences to send come back in
    /// XEP-0045 §7.2.3 order: existing occupants to the joiner, the joiner to everyone
    /// else, self-presence (status 110, and 201 for a new room), then the empty subject.
    mutating func join(nick: String, session: Session, password: String?, isNew: Bool) -> Result<[Delivery], StanzaError> {
        // The nick is the account's key-derived id, so nobody can take another's place (CR-0005 §5.1).
        guard nick == session.account else {
            return .failure(StanzaError(.notAcceptable, text: "the nick must be your account id"))
        }
        if let existing = occupant(nick: nick) {
            return .failure(StanzaError(.conflict, text: existing.session.jid == session.jid ? "already joined" : "nick in use"))
        }
        if let passwordDigest {
            guard let password, constantTimeEqual(SHA256.hash(Array(password.utf8)), passwordDigest) else {
                return .failure(StanzaError(.notAuthorized, text: "password required"))
            }
        }
        guard occupants.count < maxOccupants else {
            return .failure(Self.full)
        }
        guard let address = try? jid.with(resource: nick) else { return .failure(StanzaError(.jidMalformed)) }
        let joiner = Occupant(nick: nick, session: session, address: address)
        var deliveries: [Delivery] = []
        for other in occupants {
            deliveries.append(Delivery(to: session, element: presence(of: other, to: session.jid)))
        }
        for other in occupants {
            deliveries.append(Delivery(to: other.session, element: presence(of: joiner, to: other.session.jid)))
        }
        occupants.append(joiner)
        deliveries.append(Delivery(to: session, element: presence(of: joiner, to: session.jid, statuses: isNew ? [110, 201] : [110])))
        var subject = XML.Element("message", namespace: Namespace.client, attributes: [
            XML.Attribute("from", value: jid.description), XML.Attribute("to", value: session.jid.description),
            XML.Attribute("type", value: "groupchat"),
        ])
        subject.append(XML.Element("subject", namespace: Namespace.client, attributes: []))
        deliveries.append(Delivery(to: session, element: subject))
        return .success(deliveries)
    }

    // MARK: - Leaving (XEP-0045 §7.14)

    /// Removes the occupant with this session; unavailable presence to everyone, status 110 to itself.
    mutating func leave(session jid: JID) -> [Delivery] {
        guard let index = occupants.firstIndex(where: { $0.session.jid == jid }) else { return [] }
        let leaving = occupants.remove(at: index)
        var deliveries = occupants.map { other in
            Delivery(to: other.session, element: presence(of: leaving, to: other.session.jid, unavailable: true))
        }
        deliveries.append(Delivery(
            to: leaving.session, element: presence(of: leaving, to: leaving.session.jid, unavailable: true, statuses: [110])))
        return deliveries
    }

    // MARK: - Messages (XEP-0045 §7.4, §7.5)

    /// A groupchat message from an occupant, to every occupant: each copy carries only
    /// its addressee's key entry (CR-0005 §6.2); the sender's copy carries none.
    func groupchat(_ stanza: Stanza, from sender: Occupant) -> [Delivery] {
        var message = stanza.element
        message[attribute: "from"] = sender.address.description
        if let template = FanoutTemplate(message) {
            return occupants.map { Delivery(to: $0.session, fanout: template, nick: $0.nick) }
        }
        return occupants.map { Delivery(to: $0.session, element: FanoutTemplate.copy(of: message, to: $0.session.jid, nick: $0.nick)) }
    }

    /// A private message from an occupant to another, by nick.
    func privateMessage(_ stanza: Stanza, from sender: Occupant, to nick: String) -> Delivery? {
        guard let recipient = occupant(nick: nick) else { return nil }
        var copy = stanza.element
        copy[attribute: "from"] = sender.address.description
        copy[attribute: "to"] = recipient.session.jid.description
        return Delivery(to: recipient.session, element: copy)
    }

    // MARK: - Presence

    /// `<presence from='room/nick'><x xmlns='…muc#user'><item affiliation='none' role='participant'/><status code/>…</x></presence>`
    func presence(of occupant: Occupant, to recipient: JID, unavailable: Bool = false, statuses: [Int] = []) -> XML.Element {
        var presence = XML.Element("presence", namespace: Namespace.client, attributes: [
            XML.Attribute("from", value: occupant.address.description), XML.Attribute("to", value: recipient.description),
        ])
        if unavailable { presence[attribute: "type"] = "unavailable" }
        var x = XML.Element("x", namespace: Namespace.mucUser, attributes: [])
        x.append(XML.Element("item", namespace: Namespace.mucUser, attributes: [
            XML.Attribute("affiliation", value: "none"), XML.Attribute("role", value: unavailable ? "none" : "participant"),
        ]))
        for code in statuses {
            x.append(XML.Element("status", namespace: Namespace.mucUser, attributes: [XML.Attribute("code", value: String(code))]))
        }
        presence.append(x)
        return presence
    }
}

/// A stanza for one session, computed under the hub's lock and sent after it.
struct Delivery: Sendable {
    enum Content: Sendable {
        case element(XML.Element)
        /// A groupchat copy, made from the message's template by the recipient's nick.
        case fanout(FanoutTemplate, nick: String)
    }

    let to: Session
    let content: Content

    init(to: Session, element: XML.Element) {
        self.to = to
        content = .element(element)
    }

    init(to: Session, fanout template: FanoutTemplate, nick: String) {
        self.to = to
        content = .fanout(template, nick: nick)
    }

    var element: XML.Element {
        switch content {
        case .element(let element): element
        case .fanout(let template, let nick): template.element(to: to.jid, nick: nick)
        }
    }

    /// The stanza as it goes on a `jabber:client` stream.
    var bytes: [UInt8] {
        switch content {
        case .element(let element): element.serialized(inheritedNamespace: Namespace.client)
        case .fanout(let template, let nick): template.bytes(to: to.jid, nick: nick)
        }
    }
}
