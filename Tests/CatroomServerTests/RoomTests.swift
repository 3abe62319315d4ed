import CatroomCrypto
import CatroomProtocol
import CatroomServer
import CatroomTesting
import CatroomXML
import Testing

/// Rooms (XEP-0045 subset, xep/CR-0005): transcripts of joining, talking and leaving.
@Suite struct RoomTests {
    static let room = "lobby@rooms.localhost"

    struct Member {
        let client: TestClient
        let jid: JID
        var nick: String { jid.localpart! }
        var occupant: String { "\(RoomTests.room)/\(nick)" }
    }

    func member(_ server: Server) async throws -> Member {
        let (client, jid, _) = try await TestClient.login(port: server.port)
        return Member(client: client, jid: jid)
    }

    /// Joins and returns everything received up to and including the subject.
    @discardableResult
    func join(_ member: Member, room: String = RoomTests.room, password: String? = nil) async throws -> [XML.Element] {
        let x = password.map { "<x xmlns='http://jabber.org/protocol/muc'><password>\($0)</password></x>" } ?? "<x xmlns='http://jabber.org/protocol/muc'/>"
        try await member.client.send("<presence to='\(room)/\(member.nick)'>\(x)</presence>")
        return try await member.client.receive(until: { $0.name == "message" || $0.attribute("type") == "error" })
    }

    func encrypted(recipients: [Member], payload: String = "cGF5bG9hZA==") -> String {
        let list = recipients.map { "<recipient id='\($0.nick)'/>" }.joined()
        let keys = recipients.map { "<key recipient='\($0.nick)'>a2V5LWZvci0\($0.nick.prefix(4))=</key>" }.joined()
        return "<encrypted xmlns='urn:catroom:e2e:0' id='AAAAAAAAAAAAAAAAAAAAAA==' commitment='AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='>\(list)\(keys)<payload>\(payload)</payload></encrypted>"
    }

    func statusCodes(_ presence: XML.Element) -> [String] {
        presence.firstChild(name: "x", namespace: Namespace.mucUser)?.children(name: "status", namespace: Namespace.mucUser).compactMap { $0.attribute("code") } ?? []
    }

    @Test func firstJoinCreatesTheRoomAndReturnsSelfPresence() async throws {
        let server = try await TestServer.start()
        let alice = try await member(server)
        let received = try await join(alice)
        #expect(received.count == 2)
        #expect(received[0].attribute("from") == alice.occupant)
        #expect(statusCodes(received[0]) == ["110", "201"])
        #expect(received[1].firstChild(name: "subject", namespace: Namespace.client) != nil)
        #expect(server.statistics.rooms == 1)
        await server.shutdown()
    }

    @Test func joinerSeesOccupantsAndOccupantsSeeJoiner() async throws {
        let server = try await TestServer.start()
        let alice = try await member(server)
        let bob = try await member(server)
        try await join(alice)
        let received = try await join(bob)
        // Existing occupants first, then self-presence with 110 only, then the subject.
        #expect(received.map { $0.attribute("from") ?? "" } == [alice.occupant, bob.occupant, Self.room])
        #expect(statusCodes(received[1]) == ["110"])
        let seen = try await alice.client.receive()
        #expect(seen.attribute("from") == bob.occupant && seen.attribute("type") == nil)
        await server.shutdown()
    }

    @Test func nickMustBeTheAccountID() async throws {
        let server = try await TestServer.start()
        let alice = try await member(server)
        try await alice.client.send("<presence to='\(Self.room)/alice'><x xmlns='http://jabber.org/protocol/muc'/></presence>")
        let error = try await alice.client.receive()
        #expect(error.attribute("type") == "error" && error.errorCondition == "not-acceptable")
        #expect(server.statistics.rooms == 0)
        await server.shutdown()
    }

    @Test func groupchatGoesToEveryoneWithOnlyTheirOwnKey() async throws {
        let server = try await TestServer.start()
        let (alice, bob, carol) = (try await member(server), try await member(server), try await member(server))
        try await join(alice)
        try await join(bob)
        _ = try await alice.client.receive()
        try await join(carol)
        _ = try await alice.client.receive()
        _ = try await bob.client.receive()
        try await alice.client.send("<message to='\(Self.room)' type='groupchat' id='m1'>\(encrypted(recipients: [bob, carol]))</message>")
        for recipient in [bob, carol] {
            let message = try await recipient.client.receive()
            #expect(message.attribute("from") == alice.occupant)
            #expect(message.attribute("to") == recipient.jid.description)
            let element = try #require(message.firstChild(name: "encrypted", namespace: Namespace.encrypted))
            let keys = element.children(name: "key", namespace: Namespace.encrypted)
            #expect(keys.map { $0.attribute("recipient") } == [recipient.nick])
            #expect(element.children(name: "recipient", namespace: Namespace.encrypted).count == 2)
            #expect(element.firstChild(name: "payload", namespace: Namespace.encrypted)?.text == "cGF5bG9hZA==")
        }
        // The sender's echo carries no key at all.
        let echo = try await alice.client.receive()
        #expect(echo.attribute("id") == "m1")
        #expect(echo.firstChild(name: "encrypted", namespace: Namespace.encrypted)?.children(name: "key", namespace: Namespace.encrypted).isEmpty == true)
        await server.shutdown()
    }

    @Test func unencryptedOrOutsiderMessagesAreRejected() async throws {
        let server = try await TestServer.start()
        let (alice, bob) = (try await member(server), try await member(server))
        try await join(alice)
        try await alice.client.send("<message to='\(Self.room)' type='groupchat' id='plain'><body>hello in the clear</body></message>")
        let plain = try await alice.client.receive()
        #expect(plain.attribute("id") == "plain" && plain.errorCondition == "not-acceptable")
        // The error never echoes what was sent.
        #expect(!plain.serializedString().contains("hello in the clear"))
        try await bob.client.send("<message to='\(Self.room)' type='groupchat' id='out'>\(encrypted(recipients: [alice]))</message>")
        #expect(try await bob.client.receive().errorCondition == "not-acceptable")
        await server.shutdown()
    }

    @Test func privateMessagesGoToOneOccupant() async throws {
        let server = try await TestServer.start()
        let (alice, bob) = (try await member(server), try await member(server))
        try await join(alice)
        try await join(bob)
        _ = try await alice.client.receive()
        try await alice.client.send("<message to='\(bob.occupant)' type='chat' id='pm'>\(encrypted(recipients: [bob]))</message>")
        let received = try await bob.client.receive()
        #expect(received.attribute("from") == alice.occupant && received.attribute("type") == "chat")
        try await alice.client.send("<message to='\(bob.occupant)' type='chat' id='plain'><body>secret</body></message>")
        #expect(try await alice.client.receive().errorCondition == "not-acceptable")
        try await alice.client.send("<message to='\(Self.room)/nobody' type='chat' id='x'>\(encrypted(recipients: [bob]))</message>")
        #expect(try await alice.client.receive().errorCondition == "item-not-found")
        try await alice.client.send("<message to='\(bob.occupant)' type='groupchat' id='y'>\(encrypted(recipients: [bob]))</message>")
        #expect(try await alice.client.receive().errorCondition == "bad-request")
        await server.shutdown()
    }

    @Test func leavingAndDisconnectingAreBroadcastAndEmptyRoomsVanish() async throws {
        let server = try await TestServer.start()
        let (alice, bob, carol) = (try await member(server), try await member(server), try await member(server))
        try await join(alice)
        try await join(bob)
        try await join(carol)
        _ = try await alice.client.receive(until: { $0.attribute("from") == carol.occupant })
        _ = try await bob.client.receive(until: { $0.attribute("from") == carol.occupant })
        try await bob.client.send("<presence to='\(bob.occupant)' type='unavailable'/>")
        let selfLeave = try await bob.client.receive()
        #expect(selfLeave.attribute("type") == "unavailable" && statusCodes(selfLeave) == ["110"])
        let seen = try await alice.client.receive()
        #expect(seen.attribute("from") == bob.occupant && seen.attribute("type") == "unavailable")
        // Carol's connection drops without a word: the others still hear she left.
        await carol.client.close()
        let gone = try await alice.client.receive()
        #expect(gone.attribute("from") == carol.occupant && gone.attribute("type") == "unavailable")
        try await alice.client.send("<presence to='\(alice.occupant)' type='unavailable'/>")
        _ = try await alice.client.receive()
        try await waitUntil { server.statistics.rooms == 0 }
        try await bob.client.send("<iq type='get' id='d' to='\(Self.room)'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
        #expect(try await bob.client.receive().errorCondition == "item-not-found")
        await server.shutdown()
    }

    @Test func passwordSetByTheCreatorGuardsTheRoom() async throws {
        let server = try await TestServer.start()
        let (alice, bob) = (try await member(server), try await member(server))
        try await join(alice, password: "swordfish")
        let refused = try await join(bob)
        #expect(refused.last?.errorCondition == "not-authorized")
        let wrong = try await join(bob, password: "trout")
        #expect(wrong.last?.errorCondition == "not-authorized")
        let admitted = try await join(bob, password: "swordfish")
        #expect(admitted.last?.firstChild(name: "subject", namespace: Namespace.client) != nil)
        try await bob.client.send("<iq type='get' id='d' to='\(Self.room)'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
        let info = try await bob.client.receive()
        let features = info.childElements.first?.children(name: "feature", namespace: Namespace.discoInfo).compactMap { $0.attribute("var") } ?? []
        #expect(features.contains("muc_passwordprotected") && features.contains(Namespace.encrypted))
        await server.shutdown()
    }

    @Test func fullRoomRefusesTheNextJoiner() async throws {
        let server = try await TestServer.start { $0.limits.maxOccupants = 2 }
        let (alice, bob, carol) = (try await member(server), try await member(server), try await member(server))
        try await join(alice)
        try await join(bob)
        let refused = try await join(carol)
        #expect(refused.last?.errorCondition == "service-unavailable")
        await server.shutdown()
    }

    @Test func anAccountJoinsAtMostItsCapOfRooms() async throws {
        let server = try await TestServer.start { $0.limits.maxRoomsPerAccount = 2 }
        let alice = try await member(server)
        try await join(alice, room: "one@rooms.localhost")
        try await join(alice, room: "two@rooms.localhost")
        let refused = try await join(alice, room: "three@rooms.localhost")
        #expect(refused.count == 1 && refused[0].attribute("type") == "error")
        #expect(refused[0].errorCondition == "policy-violation")
        #expect(refused[0].firstChild(name: "x", namespace: Namespace.muc) != nil)
        #expect(server.statistics.rooms == 2)
        // Leaving one makes room for another.
        try await alice.client.send("<presence to='one@rooms.localhost/\(alice.nick)' type='unavailable'/>")
        _ = try await alice.client.receive()
        let admitted = try await join(alice, room: "three@rooms.localhost")
        #expect(admitted.last?.firstChild(name: "subject", namespace: Namespace.client) != nil)
        await server.shutdown()
    }

    @Test func plaintextErrorMessagesReachNobody() async throws {
        let server = try await TestServer.start()
        let (alice, bob) = (try await member(server), try await member(server))
        try await join(alice)
        try await join(bob)
        _ = try await alice.client.receive()
        // An error stanza is never answered (RFC 6120 §8.3.1), so these are dropped silently:
        // to the room, to an occupant, and to the account behind the nick.
        let error = "<error type='cancel'><undefined-condition xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
        for to in [Self.room, bob.occupant, "\(bob.nick)@localhost", bob.jid.description] {
            try await alice.client.send("<message to='\(to)' type='error' id='e'><body>hello in the clear</body>\(error)</message>")
        }
        try await alice.client.send("<message to='\(bob.occupant)' type='chat' id='marker'>\(encrypted(recipients: [bob]))</message>")
        let first = try await bob.client.receive()
        #expect(first.attribute("id") == "marker")
        await server.shutdown()
    }

    // MARK: - Canonical addresses (CR-0005 §3.1, §5.6)

    func errorText(_ element: XML.Element) -> String {
        element.firstChild(name: "error", namespace: Namespace.client)?.firstChild(name: "text", namespace: Namespace.stanzaErrors)?.text ?? ""
    }

    @Test(arguments: [
        ("Lobby@rooms.localhost", "write the room's address as lobby@rooms.localhost"),
        ("lobby@Rooms.localhost.", "write the room's address as lobby@rooms.localhost"),
        ("my room@rooms.localhost", "cannot contain a space"),
        ("a@b@rooms.localhost", "cannot contain '@'"),
        ("@rooms.localhost", "cannot be empty"),
        (String(repeating: "r", count: 65) + "@rooms.localhost", "cannot have 65 characters"),
        ("caf\u{E9}@rooms.localhost", "cannot contain U+00E9"),
    ])
    func aJoinToANonCanonicalAddressIsRefusedSayingWhatIsAllowed(address: String, problem: String) async throws {
        let server = try await TestServer.start()
        let alice = try await member(server)
        try await alice.client.send("<presence to='\(address)/\(alice.nick)'><x xmlns='http://jabber.org/protocol/muc'/></presence>")
        let error = try await alice.client.receive()
        #expect(error.name == "presence" && error.attribute("type") == "error")
        #expect(error.errorCondition == "jid-malformed")
        #expect(error.firstChild(name: "error", namespace: Namespace.client)?.attribute("type") == "modify")
        #expect(errorText(error).contains(problem) && errorText(error).hasSuffix(RoomName.rule))
        #expect(server.statistics.rooms == 0)
        await server.shutdown()
    }

    @Test func messagesToAnotherSpellingOfTheRoomAreRefusedAndReachNobody() async throws {
        let server = try await TestServer.start()
        let (alice, bob) = (try await member(server), try await member(server))
        try await join(alice)
        try await join(bob)
        _ = try await alice.client.receive()
        try await alice.client.send("<message to='LOBBY@rooms.localhost' type='groupchat' id='g'>\(encrypted(recipients: [bob]))</message>")
        let refused = try await alice.client.receive()
        #expect(refused.attribute("id") == "g" && refused.errorCondition == "jid-malformed")
        #expect(errorText(refused).contains("lobby@rooms.localhost"))
        try await alice.client.send("<message to='Lobby@rooms.localhost/\(bob.nick)' type='chat' id='p'>\(encrypted(recipients: [bob]))</message>")
        #expect(try await alice.client.receive().errorCondition == "jid-malformed")
        // No JID at all: the reply has no `from`, and still says what is wrong (CR-0005 §5.6).
        try await alice.client.send("<message to='my room@rooms.localhost' type='groupchat' id='m2'>\(encrypted(recipients: [bob]))</message>")
        let noJID = try await alice.client.receive()
        #expect(noJID.attribute("id") == "m2" && noJID.attribute("from") == nil && noJID.errorCondition == "jid-malformed")
        #expect(errorText(noJID).hasPrefix("a room name cannot contain a space; "))
        // The canonical address still works, and bob got nothing before it.
        try await alice.client.send("<message to='\(Self.room)' type='groupchat' id='ok'>\(encrypted(recipients: [bob]))</message>")
        let delivered = try await bob.client.receive()
        #expect(delivered.attribute("id") == "ok" && delivered.attribute("from") == alice.occupant)
        await server.shutdown()
    }

    @Test func roomsAreNotListed() async throws {
        let server = try await TestServer.start()
        let alice = try await member(server)
        try await join(alice)
        try await alice.client.send("<iq type='get' id='i' to='rooms.localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>")
        let items = try await alice.client.receive()
        #expect(items.attribute("type") == "result" && items.childElements.first?.childElements.isEmpty == true)
        await server.shutdown()
    }
}
