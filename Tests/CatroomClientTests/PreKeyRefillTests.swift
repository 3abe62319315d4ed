import CatroomClient
import CatroomCrypto
import CatroomProtocol
@_spi(Testing) import CatroomServer
import CatroomTesting
import CatroomXML
import NIOConcurrencyHelpers
import Testing

/// One-time prekey refills (CR-0004 §5.4, CR-0006 §4.1) against a real server on loopback.
@Suite struct PreKeyRefillTests {
    /// Every stanza the server delivers, with its recipient.
    final class Deliveries: Sendable {
        private let log = NIOLockedValueBox<[(element: XML.Element, to: JID)]>([])
        func record(_ element: XML.Element, _ to: JID) { log.withLockedValue { $0.append((element, to)) } }
        func to(_ localpart: String) -> [XML.Element] {
            log.withLockedValue { $0.filter { $0.to.localpart == localpart }.map(\.element) }
        }
        /// The replies to `localpart`'s bundle publications: its only IQs once it sits alone in a room.
        func publicationReplies(to localpart: String) -> Int { to(localpart).filter { $0.name == "iq" }.count }
    }

    func server(_ deliveries: Deliveries) async throws -> Server {
        try await TestServer.start { configuration in
            configuration.tamper = { element, recipient in
                deliveries.record(element, recipient)
                return [element]
            }
        }
    }

    /// The one-time prekey ids of one fetch of `owner`'s bundle (none or one).
    func fetch(_ client: TestClient, _ owner: String) async throws -> [UInt32] {
        try await client.send("<iq type='get' id='f' to='\(owner)@localhost'><bundle xmlns='urn:catroom:bundles:0'/></iq>")
        let reply = try await client.receive()
        let bundle = try #require(reply.firstChild(name: "bundle", namespace: Namespace.bundles), "\(reply)")
        return try BundleElement(bundle).oneTimePreKeys.map(\.id)
    }

    func notice(remaining: String) -> XML.Element {
        XML.Element("message", namespace: Namespace.client, attributes: [
            XML.Attribute("from", value: "localhost"), XML.Attribute("type", value: "headline"),
        ], children: [.element(XML.Element("low-stock", namespace: Namespace.bundles, attributes: [XML.Attribute("remaining", value: remaining)]))])
    }

    /// Waits until `condition` holds, five seconds at most.
    func eventually(_ what: String, _ condition: () -> Bool) async throws {
        for _ in 0..<500 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("timed out waiting for \(what)")
    }

    func errors(_ participant: Participant) -> [String] {
        participant.events.compactMap { if case .error(let text) = $0 { text } else { nil } }
    }

    @Test func drainedStockIsRefilledWithNewIDsAndANewSessionUsesOne() async throws {
        let deliveries = Deliveries()
        let server = try await server(deliveries)
        // A short cool-down: the first refill need not wait long after the first publication.
        let alice = Participant(server: server, nick: "alice") { $0.refillCoolDownSeconds = 1 }
        try await alice.waitUntilReady()
        let aliceID = try #require(await alice.client.me()?.id)
        let published = deliveries.publicationReplies(to: aliceID)
        func notices() -> [LowStockNotice] {
            deliveries.to(aliceID).compactMap { $0.firstChild(name: "low-stock", namespace: Namespace.bundles).flatMap(LowStockNotice.init) }
        }

        // Another account takes the whole first publication, oldest first. The fetch
        // that leaves 9 sends alice a notice, and she refills 100 - 9 = 91.
        let (drainer, _, _) = try await TestClient.login(port: server.port)
        var handed: [UInt32] = []
        for _ in 0..<BundleElement.capacity { handed += try await fetch(drainer, aliceID) }
        #expect(handed == Array(1...100))
        #expect(notices() == [LowStockNotice(remaining: 9)])
        try await eventually("the refill") { deliveries.publicationReplies(to: aliceID) == published + 1 }
        #expect(try await fetch(drainer, aliceID) == [101])

        // A new member's session with alice uses the next one, and alice accepts it.
        let carol = Participant(server: server, nick: "carol")
        try await carol.waitUntilReady()
        try await alice.waitFor("carol") { if case .memberJoined(let m) = $0, m.nick == "carol" { m } else { nil } }
        let carolID = try #require(await carol.client.me()?.id)
        let handedToCarol = deliveries.to(carolID).compactMap { $0.firstChild(name: "bundle", namespace: Namespace.bundles) }
        #expect(try handedToCarol.map { try BundleElement($0).oneTimePreKeys.map(\.id) } == [[102]])
        let hello = try #require(deliveries.to(aliceID).lazy.compactMap { $0.firstChild(name: "encrypted", namespace: Namespace.encrypted) }.first)
        let entry = try #require(EncryptedElement(hello)?.keys[aliceID])
        #expect(try SessionMessage(decoding: entry).preKey?.oneTimePreKeyID == 102)

        // The refill was exactly what fit: after ids 103 to 181, ten are left (no notice);
        // after 182, nine (a notice). A second account fetches, since the first has used
        // most of its fetches for this minute.
        let (second, _, _) = try await TestClient.login(port: server.port)
        var rest: [UInt32] = []
        for _ in 103...181 { rest += try await fetch(second, aliceID) }
        #expect(rest == Array(103...181))
        #expect(notices() == [LowStockNotice(remaining: 9)])
        #expect(try await fetch(second, aliceID) == [182])
        try await eventually("the second notice") { notices() == [LowStockNotice(remaining: 9), LowStockNotice(remaining: 9)] }
        #expect(errors(alice).isEmpty)
        await drainer.close()
        await second.close()
        await carol.stop()
        await alice.stop()
        await server.shutdown()
    }

    @Test func repeatedNoticesGetOnePublicationPerCoolDown() async throws {
        let deliveries = Deliveries()
        let server = try await server(deliveries)
        let alice = Participant(server: server, nick: "alice") { $0.refillCoolDownSeconds = 2 }
        try await alice.waitUntilReady()
        let aliceID = try #require(await alice.client.me()?.id)
        let jid = try #require(server.boundJID(of: aliceID))
        let initial = deliveries.publicationReplies(to: aliceID)
        // A hostile server floods alice with notices, malformed and absurd ones among them.
        func flood() {
            for i in 0..<100 {
                let remaining = ["9", "0", "", "-1", "10", "4294967296", "x"][i % 7]
                server.inject(notice(remaining: remaining), to: jid)
            }
        }
        flood()
        try await eventually("a first refill") { deliveries.publicationReplies(to: aliceID) == initial + 1 }
        flood()
        try await eventually("a second refill") { deliveries.publicationReplies(to: aliceID) == initial + 2 }
        // No notice has come since, so a third publication can only be a bug.
        try await Task.sleep(for: .seconds(3))
        #expect(deliveries.publicationReplies(to: aliceID) == initial + 2)
        // Both asked for more than fit beside alice's full stock: refused, and shown.
        #expect(errors(alice).count == 2)
        await alice.stop()
        await server.shutdown()
    }

    @Test func refusedRefillIsShownAsAnError() async throws {
        let server = try await TestServer.start()
        let alice = Participant(server: server, nick: "alice") { $0.refillCoolDownSeconds = 0.1 }
        try await alice.waitUntilReady()
        let aliceID = try #require(await alice.client.me()?.id)
        // The stock is full, so the server refuses the 100 this notice asks for.
        server.inject(notice(remaining: "0"), to: try #require(server.boundJID(of: aliceID)))
        let text = try await alice.waitFor("the refusal") { event in
            if case .error(let text) = event, text.contains("refill") { text } else { nil }
        }
        #expect(text.contains("resource-constraint"))
        await alice.stop()
        await server.shutdown()
    }
}
