@testable import CatroomCrypto
import Foundation
import Testing

/// The room safety code (CR-0007): the committed vectors, and the properties that
/// make it worth comparing.
@Suite struct SafetyCodeTests {
    static let room = "lobby@rooms.example.org"

    static func member() -> SafetyCode.Member {
        let identity = IdentityKeyPair.generate().publicKey
        return SafetyCode.Member(id: identity.accountID, identity: identity)
    }

    static func code(_ members: [SafetyCode.Member], room: String = room) throws -> String {
        try SafetyCode(room: room, members: members).text
    }

    @Test func everyVectorCaseRecomputes() throws {
        let vectors = try loadJSON("xep/CR-0007-vectors.json", inRepository: true)
        let cases = try #require(vectors["cases"] as? [[String: Any]])
        #expect(cases.count >= 5)
        for vector in cases {
            let members = try #require(vector["members"] as? [[String: String]]).map {
                SafetyCode.Member(id: $0["id"] ?? "", identity: try IdentityKey(bytes: hex($0["identityPublic"])))
            }
            let room = try #require(vector["room"] as? String)
            let code = try SafetyCode(room: room, members: members)
            #expect(try SafetyCode.encode(room: room, members: members) == hex(vector["encoded"]))
            #expect(code.digest == hex(vector["digest"]))
            #expect(code.text == vector["code"] as? String)
        }
        func code(_ name: String) -> String? { cases.first { $0["name"] as? String == name }?["code"] as? String }
        #expect(code("threeMembers") == code("threeMembersOtherOrder"))
        let differing = ["oneMember", "keyChanged", "ghostAdded", "otherRoom", "mixedLengthIds"].map(code)
        #expect(Set(differing + [code("threeMembers")]).count == differing.count + 1)
    }

    @Test func showsEightGroupsOfFiveDigits() throws {
        let text = try Self.code([Self.member()])
        #expect(text.count == 47)
        #expect(text.split(separator: " ").allSatisfy { $0.count == 5 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) })
    }

    @Test func doesNotDependOnTheOrderMembersAreListedIn() throws {
        let members = (0..<6).map { _ in Self.member() }
        let expected = try Self.code(members)
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<20 {
            #expect(try Self.code(members.shuffled(using: &generator)) == expected)
        }
    }

    @Test func changesWhenAMemberJoinsOrLeaves() throws {
        let (alice, bob, carol) = (Self.member(), Self.member(), Self.member())
        let two = try Self.code([alice, bob])
        let three = try Self.code([alice, bob, carol])
        #expect(two != three)
        #expect(try Self.code([alice, bob, carol].filter { $0 != carol }) == two)
    }

    @Test func changesWhenAKeyChanges() throws {
        let (alice, bob) = (Self.member(), Self.member())
        let substituted = SafetyCode.Member(id: bob.id, identity: IdentityKeyPair.generate().publicKey)
        #expect(try Self.code([alice, bob]) != Self.code([alice, substituted]))
    }

    @Test func bindsTheRoom() throws {
        let members = [Self.member(), Self.member()]
        #expect(try Self.code(members) != Self.code(members, room: "other@rooms.example.org"))
    }

    /// One id's entry cannot be shifted into the next: every field has its length.
    @Test func keepsIdsAndKeysApart() throws {
        let key = IdentityKeyPair.generate().publicKey
        let other = IdentityKeyPair.generate().publicKey
        let split = try Self.code([SafetyCode.Member(id: "ab", identity: key), SafetyCode.Member(id: "c", identity: other)])
        let joined = try Self.code([SafetyCode.Member(id: "a", identity: key), SafetyCode.Member(id: "bc", identity: other)])
        #expect(split != joined)
    }

    /// Canonically equivalent ids are different byte strings: both count, in byte order.
    @Test func comparesIdsAsBytes() throws {
        let composed = SafetyCode.Member(id: "\u{e9}", identity: IdentityKeyPair.generate().publicKey)
        let decomposed = SafetyCode.Member(id: "e\u{301}", identity: IdentityKeyPair.generate().publicKey)
        let encoded = try SafetyCode.encode(room: Self.room, members: [composed, decomposed])
        let decomposedAt = Label.safetyCode.count + 2 + Self.room.utf8.count + 2
        #expect(Array(encoded[decomposedAt..<decomposedAt + 4]) == [3, 0x65, 0xcc, 0x81])
    }

    @Test func refusesRostersBreakingTheRules() throws {
        let alice = Self.member()
        let bob = Self.member()
        let rosters: [(String, [SafetyCode.Member])] = [
            (Self.room, []),
            (Self.room, [alice, SafetyCode.Member(id: alice.id, identity: bob.identity)]),
            (Self.room, [alice, SafetyCode.Member(id: bob.id, identity: alice.identity)]),
            (Self.room, [SafetyCode.Member(id: "", identity: alice.identity)]),
            (Self.room, [SafetyCode.Member(id: String(repeating: "x", count: 256), identity: alice.identity)]),
            ("", [alice]),
            (String(repeating: "r", count: 1024), [alice]),
        ]
        for (room, members) in rosters {
            #expect(throws: CryptoError.malformed) { try SafetyCode(room: room, members: members) }
        }
        #expect(try Self.code([SafetyCode.Member(id: String(repeating: "x", count: 255), identity: alice.identity)]).count == 47)
    }
}
