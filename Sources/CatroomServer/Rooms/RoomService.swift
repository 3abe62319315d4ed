import CatroomProtocol
import CatroomXML

/// The room service on `rooms.<domain>` (XEP-0045 subset, xep/CR-0005): joining and
/// leaving by presence, groupchat and private messages, disco. One handler per concern.
struct RoomService {
    let hub: Hub

    static let serviceFeatures = [Namespace.discoInfo, Namespace.discoItems, Namespace.muc, Namespace.encrypted, Namespace.ping]

    func route(_ stanza: Stanza, to: JID, from session: Session) -> [Delivery] {
        guard to.localpart != nil else { return service(stanza, from: session) }
        if let error = Self.addressError(stanza.element.attribute("to") ?? "", service: hub.roomDomain) {
            return StanzaRouter.reply(stanza, session, error)
        }
        let room = to.bare
        switch (stanza.kind, to.resource) {
        case (.presence, let nick?):
            return presence(stanza, room: room, nick: nick, from: session)
        case (.presence, nil):
            // XEP-0045 §7.2.1: joining needs a nick.
            return stanza.type == nil ? StanzaRouter.reply(stanza, session, StanzaError(.jidMalformed, text: "join as room@service/nick")) : []
        case (.message, nil):
            return groupchat(stanza, room: room, from: session)
        case (.message, let nick?):
            return privateMessage(stanza, room: room, to: nick, from: session)
        case (.iq, nil):
            return roomIQ(stanza, room: room, from: session)
        case (.iq, _?):
            // IQs are not relayed to occupants: the room would learn nothing, but neither do they need it.
            return StanzaRouter.reply(stanza, session, StanzaError(.serviceUnavailable))
        }
    }

    /// The error for a `to` that names a room on `service` other than by its canonical
    /// address (CR-0005 §3.1, §5.6), saying what is allowed; nil for any other `to`.
    /// `written` may be malformed: a room name with a space or `@` is still answered.
    static func addressError(_ written: String, service: JID) -> StanzaError? {
        // Bytes, not characters: the comparison is byte for byte.
        let bare = Array(written.utf8.prefix { $0 != UInt8(ascii: "/") })
        guard let at = bare.lastIndex(of: UInt8(ascii: "@")),
              JID.normalizedDomain(String(decoding: bare[(at + 1)...], as: UTF8.self)) == service.domain else { return nil }
        do {
            let room = try RoomName.address(String(decoding: bare[..<at], as: UTF8.self), service: service)
            guard !room.description.utf8.elementsEqual(bare) else { return nil }
            return StanzaError(.jidMalformed, text: "write the room's address as \(room); \(RoomName.rule)")
        } catch {
            return StanzaError(.jidMalformed, text: error.description)
        }
    }

    // MARK: - Presence: join, stay, leave (XEP-0045 §7.2, §7.14)

    private func presence(_ stanza: Stanza, room: JID, nick: String, from session: Session) -> [Delivery] {
        switch stanza.type {
        case nil:
            if let occupant = hub.occupant(of: room, session: session.jid) {
                // Already in: a nick change is a new identity, which is not allowed (CR-0005 §5.1).
                return occupant.nick == nick ? [] : StanzaRouter.reply(stanza, session, StanzaError(.notAcceptable, text: "the nick is your account id"))
            }
            let password = stanza.element.firstChild(name: "x", namespace: Namespace.muc)?
                .firstChild(name: "password", namespace: Namespace.muc)?.text
            switch hub.join(room: room, nick: nick, session: session, password: password) {
            case .success(let deliveries):
                return deliveries
            case .failure(let error):
                return joinError(stanza, error, session)
            }
        case "unavailable":
            return hub.leave(room: room, session: session.jid)
        default:
            return []
        }
    }

    /// XEP-0045 §7.2: the error presence comes from the occupant JID and repeats `<x xmlns='…muc'/>`.
    private func joinError(_ stanza: Stanza, _ error: StanzaError, _ session: Session) -> [Delivery] {
        guard var reply = stanza.errorReply(error) else { return [] }
        reply.children.insert(.element(XML.Element("x", namespace: Namespace.muc, attributes: [])), at: 0)
        return [Delivery(to: session, element: reply)]
    }

    // MARK: - Messages (XEP-0045 §7.4, §7.5; CR-0005 §6)

    private func groupchat(_ stanza: Stanza, room: JID, from session: Session) -> [Delivery] {
        guard stanza.type != "error" else { return [] }
        guard stanza.type == "groupchat" else {
            return StanzaRouter.reply(stanza, session, StanzaError(.badRequest, text: "only groupchat messages go to the room"))
        }
        guard let snapshot = hub.room(room), let sender = snapshot.occupant(session: session.jid) else {
            return StanzaRouter.reply(stanza, session, StanzaError(.notAcceptable, text: "join the room first"))
        }
        guard stanza.element.firstChild(name: "subject", namespace: Namespace.client) == nil else {
            return StanzaRouter.reply(stanza, session, StanzaError(.forbidden, text: "rooms have no subject"))
        }
        guard StanzaRouter.isEncrypted(stanza) else { return StanzaRouter.refuseUnencrypted(stanza, session, hub) }
        return snapshot.groupchat(stanza, from: sender)
    }

    private func privateMessage(_ stanza: Stanza, room: JID, to nick: String, from session: Session) -> [Delivery] {
        guard stanza.type != "error" else { return [] }
        guard stanza.type != "groupchat" else {
            return StanzaRouter.reply(stanza, session, StanzaError(.badRequest, text: "groupchat goes to the room"))
        }
        guard let snapshot = hub.room(room), let sender = snapshot.occupant(session: session.jid) else {
            return StanzaRouter.reply(stanza, session, StanzaError(.notAcceptable, text: "join the room first"))
        }
        guard StanzaRouter.isEncrypted(stanza) else { return StanzaRouter.refuseUnencrypted(stanza, session, hub) }
        guard let delivery = snapshot.privateMessage(stanza, from: sender, to: nick) else {
            return StanzaRouter.reply(stanza, session, StanzaError(.itemNotFound, text: "no such occupant"))
        }
        return [delivery]
    }

    // MARK: - Disco (XEP-0045 §6)

    private func service(_ stanza: Stanza, from session: Session) -> [Delivery] {
        guard stanza.kind == .iq, !stanza.isResponse, let payload = stanza.payload else {
            return stanza.kind == .message ? StanzaRouter.reply(stanza, session, StanzaError(.serviceUnavailable)) : []
        }
        switch (stanza.type, payload.namespace) {
        case ("get", Namespace.discoInfo):
            return [Delivery(to: session, element: stanza.result(Disco.info(
                identity: ("conference", "text", "catroom rooms"), features: Self.serviceFeatures)))]
        case ("get", Namespace.discoItems):
            // Room names are not listed: knowing a name is what lets one in.
            return [Delivery(to: session, element: stanza.result(Disco.items([])))]
        case ("get", Namespace.ping):
            return [Delivery(to: session, element: stanza.result())]
        default:
            return StanzaRouter.reply(stanza, session, StanzaError(.serviceUnavailable))
        }
    }

    private func roomIQ(_ stanza: Stanza, room: JID, from session: Session) -> [Delivery] {
        guard !stanza.isResponse, let payload = stanza.payload else { return [] }
        switch (stanza.type, payload.namespace) {
        case ("get", Namespace.discoInfo):
            guard let passwordProtected = hub.roomIsPasswordProtected(room) else { return StanzaRouter.reply(stanza, session, StanzaError(.itemNotFound)) }
            // Occupants' real JIDs are shown to nobody (there are no moderators): semi-anonymous.
            let features = [Namespace.muc, "muc_temporary", "muc_unmoderated", "muc_semianonymous",
                            passwordProtected ? "muc_passwordprotected" : "muc_unsecured", Namespace.encrypted]
            return [Delivery(to: session, element: stanza.result(Disco.info(identity: ("conference", "text", room.localpart ?? ""), features: features)))]
        case ("get", Namespace.discoItems):
            return [Delivery(to: session, element: stanza.result(Disco.items([])))]
        case (_, Namespace.mucOwner):
            return configuration(stanza, room: room, from: session)
        default:
            return StanzaRouter.reply(stanza, session, StanzaError(.serviceUnavailable))
        }
    }

    /// XEP-0045 §10.1.2: a creator who got status 201 asks for an instant room (or the
    /// form). Rooms have nothing to configure: the empty form, and any submission accepted.
    private func configuration(_ stanza: Stanza, room: JID, from session: Session) -> [Delivery] {
        guard hub.occupant(of: room, session: session.jid) != nil else {
            return StanzaRouter.reply(stanza, session, StanzaError(.forbidden))
        }
        guard stanza.type == "get" else { return [Delivery(to: session, element: stanza.result())] }
        var query = XML.Element("query", namespace: Namespace.mucOwner, attributes: [])
        query.append(DataForm(type: "form", fields: [
            .init("FORM_TYPE", type: "hidden", values: ["http://jabber.org/protocol/muc#roomconfig"]),
        ]).element)
        return [Delivery(to: session, element: stanza.result(query))]
    }
}
