import CatroomClient
import CatroomCrypto
import CatroomProtocol
@_spi(Testing) import CatroomServer
import CatroomTesting
import NIOConcurrencyHelpers
import Testing

/// The room safety code (CR-0007) between real clients on a real server: honest
/// members show one code, and a ghost that one member sees gives that member another.
@Suite struct RoomSafetyCodeTests {
    /// The code the member's own roster gives by CR-0007 §5, from what it shows.
    func recomputed(_ participant: Participant) async throws -> String {
        let me = try #require(await participant.client.me())
        let roster = try (await participant.client.members().filter(\.ready) + [me]).map { member in
            SafetyCode.Member(id: member.id, identity: try IdentityKey(bytes: [UInt8](hex: member.fingerprint.filter { $0 != " " }) ?? []))
        }
        return try SafetyCode(room: "lobby@rooms.localhost", members: roster).text
    }

    @Test func membersOfOneRoomShowOneCodeThatFollowsJoinsAndLeaves() async throws {
        let server = try await TestServer.start()
        let alice = Participant(server: server, nick: "alice")
        try await alice.waitUntilReady()
        let alone = try await alice.safetyCode(covering: 1)
        let bob = Participant(server: server, nick: "bob")
        try await bob.waitUntilReady()
        let two = try await alice.safetyCode(covering: 2)
        #expect(try await bob.safetyCode(covering: 2) == two)
        let carol = Participant(server: server, nick: "carol")
        try await carol.waitUntilReady()

        let three = try await alice.safetyCode(covering: 3)
        for participant in [alice, bob, carol] {
            #expect(try await participant.safetyCode(covering: 3) == three)
            #expect(await participant.client.safetyCode()?.code == three)
            #expect(try await recomputed(participant) == three)
        }
        #expect(Set([alone, two, three]).count == 3)

        // Carol leaves: the code is again the one over alice and bob.
        await carol.stop()
        #expect(try await alice.safetyCode(covering: 2) == two)
        #expect(try await bob.safetyCode(covering: 2) == two)
        for participant in [alice, bob] { await participant.stop() }
        await server.shutdown()
    }

    /// SECURITY-CASES RM-01: the server shows bob an occupant that alice and carol never
    /// see, and that sees only bob. It completes a key exchange with bob, so bob encrypts
    /// to it; only comparing the safety code shows that bob's room is not theirs.
    @Test func aGhostThatExchangedKeysWithOneMemberGivesItAnotherCode() async throws {
        let honest = NIOLockedValueBox<Set<String>>([])
        let shielded = NIOLockedValueBox<Set<String>>([])
        let server = try await TestServer.start { configuration in
            configuration.tamper = { element, recipient in
                guard element.name == "presence", let occupant = element.attribute("from").flatMap({ try? JID($0) })?.resource,
                      let to = recipient.localpart
                else { return [element] }
                let (known, hidden) = (honest.withLockedValue { $0 }, shielded.withLockedValue { $0 })
                guard !known.isEmpty else { return [element] }
                // The ghost (anyone not known) and the shielded members never see each other.
                let ghostMeetsShielded = (!known.contains(occupant) && hidden.contains(to)) || (!known.contains(to) && hidden.contains(occupant))
                return ghostMeetsShielded ? [] : [element]
            }
        }
        let (alice, bob, carol) = try await Participant.trio(on: server)
        let room = try await alice.safetyCode(covering: 3)
        #expect(try await bob.safetyCode(covering: 3) == room)
        #expect(try await carol.safetyCode(covering: 3) == room)
        var ids: [String] = []
        for participant in [alice, bob, carol] { ids.append(try #require(await participant.client.me()?.id)) }
        honest.withLockedValue { $0 = Set(ids) }
        shielded.withLockedValue { $0 = [ids[0], ids[2]] }

        let ghost = Participant(server: server, nick: "ghost")
        try await ghost.waitUntilReady()
        try await bob.waitFor("the ghost's key exchange") { if case .memberJoined(let member) = $0, member.nick == "ghost" { true } else { nil } }
        let bobsRoom = try await bob.safetyCode(covering: 4)
        #expect(bobsRoom != room)
        #expect(try await recomputed(bob) == bobsRoom)
        #expect(try await ghost.safetyCode(covering: 2) != room)
        // Alice and carol never saw the ghost: their code is still the room's.
        #expect(await alice.client.safetyCode()?.code == room)
        #expect(await carol.client.safetyCode()?.code == room)
        let ghostID = try #require(await ghost.client.me()?.id)
        for participant in [alice, carol] {
            #expect(!participant.events.contains { if case .memberPending(let id, _) = $0 { id == ghostID } else { false } })
        }

        for participant in [ghost, alice, bob, carol] { await participant.stop() }
        await server.shutdown()
    }
}

extension Participant {
    /// The newest safety code reported, once it covers `members` (five seconds at most).
    func safetyCode(covering members: Int) async throws -> String {
        try await waitFor("a safety code over \(members) members") { _ in
            let latest = events.last { if case .safetyCode = $0 { true } else { false } }
            guard case .safetyCode(let code, members)? = latest else { return nil }
            return code
        }
    }
}
