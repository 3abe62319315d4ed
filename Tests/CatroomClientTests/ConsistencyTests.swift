@_spi(Testing) import CatroomClient
import CatroomProtocol
@_spi(Testing) import CatroomServer
import CatroomTesting
import CatroomXML
import NIOConcurrencyHelpers
import Testing

/// Transcript consistency (CR-0006 §5.8, issue 9): acknowledgements tell a sender who
/// got its message, counter gaps tell a member what never reached it, and comparing
/// entry digests exposes a split view; reordering raises no warning.
@Suite struct ConsistencyTests {
    /// What the server does to alice's groupchat messages on their way to bob and carol.
    enum Plan: Sendable {
        case deliver
        /// Drop the next message to bob.
        case withholdFromBob
        /// Hold the next message to bob and deliver it after the one that follows.
        case reorderForBob
        /// Of the next two messages, show bob only the first and carol only the second.
        case split
    }

    struct Room {
        let server: Server
        let alice: Participant, bob: Participant, carol: Participant
        let plan: NIOLockedValueBox<Plan>
    }

    func room() async throws -> Room {
        let plan = NIOLockedValueBox(Plan.deliver)
        let aliceID = NIOLockedValueBox<String?>(nil)
        let bobID = NIOLockedValueBox<String?>(nil)
        let carolID = NIOLockedValueBox<String?>(nil)
        let held = NIOLockedValueBox<XML.Element?>(nil)
        let seen = NIOLockedValueBox<[String: Int]>([:])
        let server = try await TestServer.start { configuration in
            configuration.tamper = { element, recipient in
                guard element.name == "message", element.attribute("type") == "groupchat",
                      let alice = aliceID.withLockedValue({ $0 }), element.attribute("from")?.hasSuffix("/" + alice) == true,
                      let to = recipient.localpart
                else { return [element] }
                let forBob = to == bobID.withLockedValue { $0 }
                let forCarol = to == carolID.withLockedValue { $0 }
                switch plan.withLockedValue({ $0 }) {
                case .deliver:
                    return [element]
                case .withholdFromBob:
                    guard forBob else { return [element] }
                    plan.withLockedValue { $0 = .deliver }
                    return []
                case .reorderForBob:
                    guard forBob else { return [element] }
                    guard let first = held.withLockedValue({ $0 }) else {
                        held.withLockedValue { $0 = element }
                        return []
                    }
                    plan.withLockedValue { $0 = .deliver }
                    return [element, first]
                case .split:
                    guard forBob || forCarol else { return [element] }
                    let count = seen.withLockedValue { seen in
                        seen[to, default: 0] += 1
                        return seen[to] ?? 0
                    }
                    if count == 2, forCarol { plan.withLockedValue { $0 = .deliver } }
                    return (count == 1) == forBob ? [element] : []
                }
            }
        }
        let (alice, bob, carol) = try await Participant.trio(on: server)
        aliceID.withLockedValue { $0 = alice.events.ownID }
        bobID.withLockedValue { $0 = bob.events.ownID }
        carolID.withLockedValue { $0 = carol.events.ownID }
        return Room(server: server, alice: alice, bob: bob, carol: carol, plan: plan)
    }

    func stop(_ room: Room) async throws {
        for participant in [room.alice, room.bob, room.carol] { await participant.stop() }
        await room.server.shutdown()
    }

    func delivery(_ participant: Participant, complete: Bool) async throws -> (acknowledged: [String], pending: [String]) {
        try await participant.waitFor("delivery") { event in
            if case .delivery(_, let acknowledged, let pending) = event, pending.isEmpty == complete { (acknowledged, pending) } else { nil }
        }
    }

    func warnings(_ participant: Participant) -> [ClientEvent] {
        participant.events.filter {
            switch $0 {
            case .divergence, .missing, .undecryptable: true
            default: false
            }
        }
    }

    @Test func theSenderSeesWhoAcknowledged() async throws {
        let room = try await room()
        await #expect(throws: Never.self) { try await room.alice.client.say("hello both") }
        let delivered = try await delivery(room.alice, complete: true)
        #expect(delivered.acknowledged == ["bob", "carol"])
        let reply = await room.alice.client.perform(.info)
        #expect(reply == .notice("your last message was acknowledged by bob, carol"))
        for participant in [room.alice, room.bob, room.carol] { #expect(warnings(participant).isEmpty) }
        try await stop(room)
    }

    @Test func aWithheldCopyIsNoticedByBothSides() async throws {
        let room = try await room()
        room.plan.withLockedValue { $0 = .withholdFromBob }
        try await room.alice.client.say("one")
        _ = try await room.carol.waitForMessage("one")
        // Carol acknowledged; bob never will.
        let partial = try await delivery(room.alice, complete: false)
        #expect(partial == (["carol"], ["bob"]))
        try await room.alice.client.say("two")
        _ = try await room.bob.waitForMessage("two")
        let missing = try await room.bob.waitFor("missing") { if case .missing(let from, let count) = $0 { (from, count) } else { nil } }
        #expect(missing == ("alice", 1))
        #expect(!room.bob.events.contains { if case .divergence = $0 { true } else { false } })
        try await stop(room)
    }

    @Test func reorderedMessagesRaiseNoWarning() async throws {
        let room = try await room()
        room.plan.withLockedValue { $0 = .reorderForBob }
        try await room.alice.client.say("first")
        try await room.alice.client.say("second")
        _ = try await room.bob.waitForMessage("first")
        _ = try await room.bob.waitForMessage("second")
        #expect(room.bob.messages().map(\.text) == ["second", "first"])
        try await room.alice.client.say("third")
        _ = try await room.bob.waitForMessage("third")
        // Longer than the gap report delay and several acknowledgement rounds.
        try await Task.sleep(for: .seconds(1.5))
        for participant in [room.alice, room.bob, room.carol] { #expect(warnings(participant).isEmpty) }
        #expect(room.bob.events.contains { if case .notice(let text) = $0 { text.contains("late") } else { false } } == false)
        try await stop(room)
    }

    /// Members who join late receive acknowledgements of messages from before their
    /// time, and members leave mid-conversation: neither is a warning.
    @Test func joinsAndLeavesRaiseNoWarning() async throws {
        let room = try await room()
        try await room.alice.client.say("before dave")
        _ = try await room.carol.waitForMessage("before dave")
        // Bob's and carol's acknowledgement-only messages have gone out: sent while dave
        // was still exchanging keys, they would reach him without his entry, which a
        // joiner rightly reports as "not encrypted to you" (CR-0006 §5.6 step 2).
        _ = try await delivery(room.alice, complete: true)
        let dave = Participant(server: room.server, nick: "dave")
        try await dave.waitUntilReady()
        try await room.alice.waitForMember("dave")
        try await room.bob.waitForMember("dave")
        try await room.carol.waitForMember("dave")
        // Bob's acknowledgement of "before dave" may reach dave, who never had it.
        try await room.bob.client.say("hi dave")
        _ = try await dave.waitForMessage("hi dave")
        await room.carol.stop()
        try await room.alice.client.say("after carol")
        _ = try await dave.waitForMessage("after carol")
        _ = try await room.bob.waitForMessage("after carol")
        let id = try await room.alice.waitFor("own message") { event in
            if case .message(let message) = event, message.isOwn, message.text == "after carol" { message.id } else { nil }
        }
        let acknowledged = try await room.alice.waitFor("delivery of \(id)") { event in
            if case .delivery(id, let acknowledged, let pending) = event, pending.isEmpty { acknowledged } else { nil }
        }
        #expect(acknowledged == ["bob", "dave"])
        try await Task.sleep(for: .seconds(1.5))
        for participant in [room.alice, room.bob, dave] { #expect(warnings(participant).isEmpty) }
        await dave.stop()
        await room.alice.stop()
        await room.bob.stop()
        await room.server.shutdown()
    }

    @Test func aSplitViewIsNamedByBothRecipients() async throws {
        let room = try await room()
        room.plan.withLockedValue { $0 = .split }
        try await room.alice.client.sayInVersions(["pay bob", "pay carol"])
        _ = try await room.bob.waitForMessage("pay bob")
        _ = try await room.carol.waitForMessage("pay carol")
        let atBob = try await room.bob.waitFor("divergence") {
            if case .divergence(let sender, _, let witness, let text) = $0 { [sender, witness, text ?? ""] } else { nil }
        }
        #expect(atBob == ["alice", "carol", "pay bob"])
        let atCarol = try await room.carol.waitFor("divergence") {
            if case .divergence(let sender, _, let witness, let text) = $0 { [sender, witness, text ?? ""] } else { nil }
        }
        #expect(atCarol == ["alice", "bob", "pay carol"])
        try await stop(room)
    }
}

extension [ClientEvent] {
    /// This client's own account id, from its `connected` event.
    var ownID: String? {
        lazy.compactMap { if case .connected(_, _, let me) = $0 { me.id } else { nil } }.first
    }
}
