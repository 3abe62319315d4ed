import CatroomProtocol
import CatroomXML

/// Prekey bundles (xep/CR-0004): publication by the owner, fetches by anyone
/// authenticated, one one-time prekey per fetch, a notice to the owner on low stock.
struct BundleService {
    let hub: Hub

    /// `<iq type='set'><bundle xmlns='urn:catroom:bundles:0'>…</bundle></iq>` to the server.
    func publish(_ stanza: Stanza, _ payload: XML.Element, from session: Session) -> [Delivery] {
        do throws(StanzaError) {
            let bundle = try BundleElement(payload)
            guard bundle.oneTimePreKeys.count <= StoredBundle.capacity else {
                throw StanzaError(.resourceConstraint, text: "at most \(StoredBundle.capacity) one-time prekeys")
            }
            // Verified before taking the hub's lock: an Ed25519 check is the costly step.
            guard bundle.signedPreKey.isSigned(by: bundle.identityKey) else {
                throw StanzaError(.notAcceptable, text: "signed prekey signature does not verify")
            }
            try hub.publish(bundle, by: session.account)
            return [Delivery(to: session, element: stanza.result())]
        } catch {
            return StanzaRouter.reply(stanza, session, error)
        }
    }

    /// `<iq type='get' to='id@domain'><bundle xmlns='urn:catroom:bundles:0'/></iq>`.
    func fetch(_ stanza: Stanza, of owner: JID, from session: Session) -> [Delivery] {
        guard stanza.type == "get", let payload = stanza.payload, payload.name == "bundle", payload.namespace == Namespace.bundles else {
            return stanza.isResponse ? [] : StanzaRouter.reply(stanza, session, StanzaError(.serviceUnavailable))
        }
        guard hub.allowBundleFetch(by: session.account) else {
            return StanzaRouter.reply(stanza, session, StanzaError(.resourceConstraint, text: "too many bundle fetches"))
        }
        guard let localpart = owner.localpart, let (bundle, remaining, owners) = hub.fetchBundle(of: localpart) else {
            return StanzaRouter.reply(stanza, session, StanzaError(.itemNotFound))
        }
        var deliveries = [Delivery(to: session, element: stanza.result(bundle.element))]
        for owner in owners {
            deliveries.append(Delivery(to: owner, element: Self.lowStockNotice(to: owner.jid, remaining: remaining, from: hub.domain)))
        }
        return deliveries
    }

    /// `<message type='headline'><low-stock xmlns='urn:catroom:bundles:0' remaining='n'/></message>`
    static func lowStockNotice(to owner: JID, remaining: Int, from domain: JID) -> XML.Element {
        var message = XML.Element("message", namespace: Namespace.client, attributes: [
            XML.Attribute("from", value: domain.description), XML.Attribute("to", value: owner.description),
            XML.Attribute("type", value: "headline"),
        ])
        message.append(LowStockNotice(remaining: remaining).element)
        return message
    }
}
