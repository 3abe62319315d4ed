import CatroomCrypto
import CatroomProtocol
import CatroomXML

/// One connection's prekey publications (CR-0004, CR-0006 §4): the first, and refills
/// after low-stock notices. One per connection, whatever the number of rooms: the
/// bundle belongs to the account, not to a room.
actor PreKeyPublisher {
    private let sessions: SharedSessions
    private let connection: StanzaConnection
    private let iq: IQTracker
    private let emit: @Sendable (ClientEvent) -> Void
    /// When to refill one-time prekeys (CR-0006 §4.1).
    private var refill: PreKeyRefill

    init(
        sessions: SharedSessions, connection: StanzaConnection, iq: IQTracker, coolDownSeconds: Double,
        emit: @escaping @Sendable (ClientEvent) -> Void
    ) {
        self.sessions = sessions
        self.connection = connection
        self.iq = iq
        self.emit = emit
        refill = PreKeyRefill(coolDown: .seconds(coolDownSeconds))
    }

    /// The first publication: the signed prekey and as many one-time prekeys as the server keeps.
    func publishInitial() async throws {
        refill.started(at: .now)
        defer { perform(refill.finished(at: .now)) }
        try await publish(oneTimePreKeys: BundleElement.capacity)
    }

    /// A `<low-stock/>` notice from the server's own address (CR-0006 §4.1). One that is
    /// malformed, or not low, is ignored.
    func noticed(_ element: XML.Element) {
        guard let notice = LowStockNotice(element) else { return }
        perform(refill.noticed(notice, at: .now))
    }

    private func perform(_ action: PreKeyRefill.Action) {
        switch action {
        case .nothing:
            break
        case .wake(let instant):
            Task {
                try? await Task.sleep(until: instant)
                self.perform(self.refill.woke(at: .now))
            }
        case .publish(let count):
            Task {
                do {
                    try await self.publish(oneTimePreKeys: count)
                } catch {
                    self.emit(.error("could not refill one-time prekeys (new sessions with you may start without one): \(error)"))
                }
                self.perform(self.refill.finished(at: .now))
            }
        }
    }

    /// Publishes the signed prekey and `count` new one-time prekeys (CR-0004 §5.2); keys the
    /// server refuses are deleted, since nobody can have fetched them.
    private func publish(oneTimePreKeys count: Int) async throws {
        let (oneTime, bundle) = sessions.withStore { store in
            let oneTime = store.generateOneTimePreKeys(count: count)
            return (oneTime, BundleElement(identityKey: store.identity.publicKey, signedPreKey: store.preKeys.signedPreKey, oneTimePreKeys: oneTime))
        }
        let reply = try await iq.request(
            XML.Element("iq", namespace: Namespace.client, attributes: [XML.Attribute("type", value: "set")], children: [.element(bundle.element)]),
            on: connection)
        guard reply.attribute("type") == "result" else {
            sessions.withStore { $0.removeOneTimePreKeys(oneTime.map(\.id)) }
            throw Login.Failure("publishing prekeys failed: \(Login.errorText(reply))")
        }
    }
}
