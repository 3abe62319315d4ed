import CatroomProtocol
import CatroomXML

/// IQs the server answers itself: disco (XEP-0030), ping (XEP-0199), an empty roster
/// (RFC 6121), legacy session (RFC 6121 Appendix E), bundle publication (CR-0004).
struct ServerIQ {
    let hub: Hub

    static let features = [
        Namespace.discoInfo, Namespace.discoItems, Namespace.ping, Namespace.register,
        Namespace.keyRegistration, Namespace.bundles, Namespace.encrypted,
    ]

    func handle(_ stanza: Stanza, from session: Session) -> [Delivery] {
        guard !stanza.isResponse, let payload = stanza.payload else { return [] }
        switch (stanza.type, payload.namespace, payload.name) {
        case ("get", Namespace.discoInfo, "query"):
            return [Delivery(to: session, element: stanza.result(Disco.info(
                identity: ("server", "im", "catroom"), features: Self.features)))]
        case ("get", Namespace.discoItems, "query"):
            return [Delivery(to: session, element: stanza.result(Disco.items([hub.roomDomain])))]
        case ("get", Namespace.ping, "ping"):
            return [Delivery(to: session, element: stanza.result())]
        case ("get", Namespace.roster, "query"):
            return [Delivery(to: session, element: stanza.result(XML.Element("query", namespace: Namespace.roster, attributes: [])))]
        case ("set", Namespace.session, "session"):
            return [Delivery(to: session, element: stanza.result())]
        case ("set", Namespace.bundles, "bundle"):
            return BundleService(hub: hub).publish(stanza, payload, from: session)
        case (_, Namespace.register, "query"):
            return StanzaRouter.reply(stanza, session, StanzaError(.notAllowed, text: "register before authenticating"))
        default:
            return StanzaRouter.reply(stanza, session, StanzaError(.serviceUnavailable))
        }
    }
}

/// XEP-0030 answers.
enum Disco {
    static func info(identity: (category: String, type: String, name: String), features: [String]) -> XML.Element {
        var query = XML.Element("query", namespace: Namespace.discoInfo, attributes: [])
        query.append(XML.Element("identity", namespace: Namespace.discoInfo, attributes: [
            XML.Attribute("category", value: identity.category), XML.Attribute("type", value: identity.type),
            XML.Attribute("name", value: identity.name),
        ]))
        for feature in features {
            query.append(XML.Element("feature", namespace: Namespace.discoInfo, attributes: [XML.Attribute("var", value: feature)]))
        }
        return query
    }

    static func items(_ jids: [JID]) -> XML.Element {
        var query = XML.Element("query", namespace: Namespace.discoItems, attributes: [])
        for jid in jids {
            query.append(XML.Element("item", namespace: Namespace.discoItems, attributes: [XML.Attribute("jid", value: jid.description)]))
        }
        return query
    }
}
