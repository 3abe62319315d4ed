import CatroomClient
import CatroomProtocol
@_spi(Testing) import CatroomServer
import CatroomTesting
import CatroomXML
import NIOConcurrencyHelpers
import Testing

/// A server turned malicious (SECURITY-CASES PC-02, PC-20, PC-21, RM-01, RM-04): each
/// trick is detected and reported by the receiving client, and nothing is accepted twice.
@Suite struct TamperingTests {
    /// What the malicious server does to the next groupchat or private message for bob.
    enum Trick: Sendable {
        case none, replay, roomToPrivate, privateToRoom, dropKey, relabelSender(String), respellRoom
    }

    /// Three members in a room on a server whose deliveries to bob pass through `trick`.
    struct Room {
        let server: Server
        let alice: Participant, bob: Participant, carol: Participant
        let trick: NIOLockedValueBox<Trick>
        let bobJID: NIOLockedValueBox<JID?>
        let seenByCarol: NIOLockedValueBox<[XML.Element]>
    }

    func room() async throws -> Room {
        let trick = NIOLockedValueBox(Trick.none)
        let bobJID = NIOLockedValueBox<JID?>(nil)
        let seenByCarol = NIOLockedValueBox<[XML.Element]>([])
        let carolJID = NIOLockedValueBox<JID?>(nil)
        let server = try await TestServer.start { configuration in
            configuration.tamper = { element, recipient in
                if recipient == carolJID.withLockedValue({ $0 }) { seenByCarol.withLockedValue { $0.append(element) } }
                guard recipient == bobJID.withLockedValue({ $0 }), element.name == "message",
                      element.firstChild(name: "encrypted", namespace: Namespace.encrypted) != nil,
                      let from = element.attribute("from"), !from.hasSuffix("/" + recipient.localpart!)
                else { return [element] }
                let current = trick.withLockedValue { value in
                    defer { value = .none }
                    return value
                }
                var changed = element
                switch current {
                case .none: return [element]
                case .replay: return [element, element]
                case .roomToPrivate: changed[attribute: "type"] = "chat"
                case .privateToRoom: changed[attribute: "type"] = "groupchat"
                case .dropKey:
                    changed.children = element.children.map { node in
                        guard case .element(var encrypted) = node, encrypted.name == "encrypted" else { return node }
                        encrypted.children.removeAll { $0.element?.name == "key" }
                        return .element(encrypted)
                    }
                case .relabelSender(let nick):
                    let room = from.split(separator: "/")[0]
                    changed[attribute: "from"] = "\(room)/\(nick)"
                case .respellRoom:
                    let bare = from.prefix { $0 != "/" }
                    changed[attribute: "from"] = bare.uppercased() + from.dropFirst(bare.count)
                }
                return [changed]
            }
        }
        let (alice, bob, carol) = try await Participant.trio(on: server)
        let bobID = try #require(await bob.client.me()?.id)
        bobJID.withLockedValue { $0 = server.boundJID(of: bobID) }
        let carolID = try #require(await carol.client.me()?.id)
        carolJID.withLockedValue { $0 = server.boundJID(of: carolID) }
        return Room(server: server, alice: alice, bob: bob, carol: carol, trick: trick, bobJID: bobJID, seenByCarol: seenByCarol)
    }

    func undecryptable(_ participant: Participant, from nick: String) async throws -> String {
        try await participant.waitFor("undecryptable from \(nick)") { event in
            if case .undecryptable(let from, let reason) = event, from == nick { reason } else { nil }
        }
    }

    func stop(_ room: Room) async {
        for participant in [room.alice, room.bob, room.carol] { await participant.stop() }
        await room.server.shutdown()
    }

    @Test func aReplayedMessageIsShownOnce() async throws {
        let room = try await room()
        room.trick.withLockedValue { $0 = .replay }
        try await room.alice.client.say("only once")
        _ = try await room.bob.waitForMessage("only once")
        try await room.bob.waitFor("duplicate") { if case .duplicate(let from) = $0, from == "alice" { true } else { nil } }
        #expect(room.bob.messages().filter { $0.text == "only once" }.count == 1)
        await stop(room)
    }

    @Test func aRoomMessageReaddressedAsPrivateIsRejected() async throws {
        let room = try await room()
        room.trick.withLockedValue { $0 = .roomToPrivate }
        try await room.alice.client.say("for the whole room")
        // With two recipients it cannot even be a side chat; with one, the AEAD would refuse it.
        let reason = try await undecryptable(room.bob, from: "alice")
        #expect(reason.contains("do not fit where it arrived") || reason.contains("failed to authenticate"))
        _ = try await room.carol.waitForMessage("for the whole room")
        #expect(!room.bob.messages().contains { $0.text == "for the whole room" })
        // The session survives: the next message is read.
        try await room.alice.client.say("next")
        _ = try await room.bob.waitForMessage("next")
        await stop(room)
    }

    @Test func aPrivateMessageShownInTheRoomIsRejected() async throws {
        let room = try await room()
        room.trick.withLockedValue { $0 = .privateToRoom }
        try await room.alice.client.whisper("between us", to: "bob")
        _ = try await undecryptable(room.bob, from: "alice")
        #expect(!room.bob.messages().contains { $0.text == "between us" })
        await stop(room)
    }

    @Test func aDroppedKeyEntryIsReported() async throws {
        let room = try await room()
        room.trick.withLockedValue { $0 = .dropKey }
        try await room.alice.client.say("where is my key")
        let reason = try await undecryptable(room.bob, from: "alice")
        #expect(reason == "not encrypted to you")
        _ = try await room.carol.waitForMessage("where is my key")
        await stop(room)
    }

    @Test func aRelabelledSenderIsRejected() async throws {
        let room = try await room()
        let carolID = try #require(await room.carol.client.me()?.id)
        room.trick.withLockedValue { $0 = .relabelSender(carolID) }
        try await room.alice.client.say("not from carol")
        _ = try await undecryptable(room.bob, from: "carol")
        #expect(!room.bob.messages().contains { $0.text == "not from carol" })
        await stop(room)
    }

    @Test func aRoomAddressInAnotherSpellingIsIgnoredAndReported() async throws {
        let room = try await room()
        room.trick.withLockedValue { $0 = .respellRoom }
        try await room.alice.client.say("from LOBBY")
        let report = try await room.bob.waitFor("the report") { if case .error(let text) = $0, text.contains("LOBBY@ROOMS.LOCALHOST") { text } else { nil } }
        #expect(report.contains("lobby@rooms.localhost"))
        _ = try await room.carol.waitForMessage("from LOBBY")
        try await room.alice.client.say("from lobby")
        _ = try await room.bob.waitForMessage("from lobby")
        #expect(!room.bob.messages().contains { $0.text == "from LOBBY" })
        await stop(room)
    }

    @Test func anOccupantInjectedByTheServerIsFlaggedAndSentNothing() async throws {
        let room = try await room()
        let ghost = IdentityKeyPairForTests.id()
        let bobJID = try #require(room.bobJID.withLockedValue { $0 })
        // The server shows bob a member nobody else sees, who never exchanges keys.
        room.server.inject(XML.Element("presence", namespace: Namespace.client, attributes: [
            XML.Attribute("from", value: "lobby@rooms.localhost/\(ghost)"), XML.Attribute("to", value: bobJID.description),
        ]), to: bobJID)
        try await room.bob.waitFor("the ghost flagged") { event in
            if case .memberPending(let id, let waited) = event, id == ghost, waited > 0 { true } else { nil }
        }
        // Bob's messages are encrypted to the members he exchanged keys with, never to the ghost.
        try await room.bob.client.say("who is listening")
        _ = try await room.carol.waitForMessage("who is listening")
        let copy = try #require(room.seenByCarol.withLockedValue { $0 }.last { $0.serializedString().contains("encrypted") })
        let recipients = copy.firstChild(name: "encrypted", namespace: Namespace.encrypted)?
            .children(name: "recipient", namespace: Namespace.encrypted).compactMap { $0.attribute("id") } ?? []
        #expect(recipients.count == 2 && !recipients.contains(ghost))
        // And a message from alice, who does not see the ghost, is flagged at bob as not sent to it.
        try await room.alice.client.say("hello all")
        let seen = try await room.bob.waitForMessage("hello all")
        #expect(seen.missingRecipients == [String(ghost.prefix(8))])
        await stop(room)
    }
}

enum IdentityKeyPairForTests {
    /// A well-formed account id nobody holds the key of.
    static func id() -> String { "aaaaaaaaaaaaaaaaaaaaaaaaaaaa" + String("abcd".shuffled()) }
}
