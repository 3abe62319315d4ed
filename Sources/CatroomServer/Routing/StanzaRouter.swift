import CatroomProtocol
import CatroomXML

/// Decides where a stanza goes, and nothing else (after Prosody's router): by the
/// recipient's domain, then kind, type and payload, to one small handler each.
/// Every IQ gets exactly one reply; errors and results are never answered.
struct StanzaRouter {
    let hub: Hub

    var domain: JID { hub.domain }

    /// Routes a stanza from a bound session; `from` is already stamped.
    func route(_ stanza: Stanza, from session: Session) -> [Delivery] {
        if stanza.hasMalformedRecipient {
            // A room name with a space or `@` gets the room service's explanation (CR-0005 §5.6).
            let roomError = stanza.element.attribute("to").flatMap { RoomService.addressError($0, service: hub.roomDomain) }
            return Self.reply(stanza, session, roomError ?? StanzaError(.jidMalformed))
        }
        // RFC 6120 §8.2.3: a request is a get or set with exactly one payload; so every
        // handler below may assume one, and no malformed request goes unanswered.
        if stanza.kind == .iq, !stanza.isResponse,
           stanza.type != "get" && stanza.type != "set" || stanza.element.childElements.count != 1 {
            return Self.reply(stanza, session, StanzaError(.badRequest))
        }
        guard let to = stanza.to else { return server(stanza, from: session) }
        switch to.domain {
        case domain.domain where to.localpart == nil:
            return server(stanza, from: session)
        case domain.domain:
            return user(stanza, to: to, from: session)
        case hub.roomDomain.domain:
            return RoomService(hub: hub).route(stanza, to: to, from: session)
        default:
            // No server-to-server: every other domain is unreachable (RFC 6120 §8.3.3.14).
            return Self.reply(stanza, session, StanzaError(.remoteServerNotFound))
        }
    }

    // MARK: - To the server itself (RFC 6120 §10.3.1)

    private func server(_ stanza: Stanza, from session: Session) -> [Delivery] {
        switch stanza.kind {
        case .iq:
            return ServerIQ(hub: hub).handle(stanza, from: session)
        case .presence:
            // Initial and broadcast presence: there are no rosters to broadcast to.
            return []
        case .message:
            return Self.reply(stanza, session, StanzaError(.serviceUnavailable))
        }
    }

    // MARK: - To an account (RFC 6120 §10.3.2, §10.3.3)

    private func user(_ stanza: Stanza, to: JID, from session: Session) -> [Delivery] {
        switch stanza.kind {
        case .iq where to.isBare:
            // The server answers for a bare JID: the account's bundle, or its own roster and pings.
            if to == session.jid.bare { return ServerIQ(hub: hub).handle(stanza, from: session) }
            return BundleService(hub: hub).fetch(stanza, of: to, from: session)
        case .iq:
            guard let target = hub.session(to) else { return Self.reply(stanza, session, StanzaError(.serviceUnavailable)) }
            return [Delivery(to: target, element: stanza.element)]
        case .message:
            // An error message is held to the rule too: its text or an echoed body would be
            // plaintext. It is dropped unanswered (RFC 6120 §8.3.1), as in rooms.
            guard Self.isEncrypted(stanza) else { return Self.refuseUnencrypted(stanza, session, hub) }
            let targets = to.isBare ? hub.sessions(of: to) : hub.session(to).map { [$0] } ?? hub.sessions(of: to.bare)
            guard !targets.isEmpty else { return Self.reply(stanza, session, StanzaError(.serviceUnavailable)) }
            return targets.map { Delivery(to: $0, element: stanza.element) }
        case .presence:
            // Directed presence is not relayed: nobody learns who is online from the server.
            return []
        }
    }

    // MARK: - Helpers

    /// The encrypted-only rule (CR-0005 §5.4): chat content must be end-to-end encrypted.
    static func isEncrypted(_ stanza: Stanza) -> Bool {
        stanza.element.firstChild(name: "encrypted", namespace: Namespace.encrypted) != nil
    }

    static let unencrypted = StanzaError(.notAcceptable, text: "only end-to-end encrypted messages are accepted (urn:catroom:e2e:0)")

    /// The reply to a plaintext message, counted as a refusal.
    static func refuseUnencrypted(_ stanza: Stanza, _ session: Session, _ hub: Hub) -> [Delivery] {
        hub.metrics?.refused(.unencrypted)
        return reply(stanza, session, unencrypted)
    }

    /// The error reply to `stanza`, or nothing if it must not be answered.
    static func reply(_ stanza: Stanza, _ session: Session, _ error: StanzaError) -> [Delivery] {
        guard let element = stanza.errorReply(error) else { return [] }
        return [Delivery(to: session, element: element)]
    }
}

extension ClientConnection {
    /// RFC 6120 §8.1.2.1: the server stamps `from`; a client may only name itself.
    func routeStanza(_ element: XML.Element, from session: Session) {
        var stanza: Stanza
        do {
            stanza = try Stanza(element)
        } catch {
            return streamError(error)
        }
        if let from = stanza.from, from != session.jid, from != session.jid.bare {
            return streamError(StreamError(.invalidFrom))
        }
        stanza.setFrom(session.jid)
        deliver(StanzaRouter(hub: hub).route(stanza, from: session))
    }
}
