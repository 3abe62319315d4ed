@testable import CatroomCrypto
import Testing

extension ProtocolVectors {
    // MARK: - CR-0007

    static let safetyRoom = "lobby@rooms.example.org"

    /// Room safety codes of one room's rosters as different members or moments see
    /// them, and rosters that must be refused.
    static func safetyCodeVectors(inputs: Inputs) throws -> [String: Any] {
        var parties: [String: Any] = [:]
        var keys: [String: SafetyCode.Member] = [:]
        for name in ["alice", "bob", "carol", "mallory"] {
            let seed = inputs("\(name).identitySeed", party: name, use: "Ed25519 identity seed")
            let identity = try IdentityKeyPair(seed: SecretBytes(copying: seed)).publicKey
            parties["\(name).identitySeed"] = seed.hexString
            parties["\(name).identityPublic"] = identity.bytes.hexString
            parties["\(name).accountID"] = identity.accountID
            keys[name] = SafetyCode.Member(id: identity.accountID, identity: identity)
        }
        let (alice, bob, carol, mallory) = (keys["alice"]!, keys["bob"]!, keys["carol"]!, keys["mallory"]!)
        func member(_ id: String, keyOf owner: SafetyCode.Member) -> SafetyCode.Member {
            SafetyCode.Member(id: id, identity: owner.identity)
        }
        let cases: [[String: Any]] = try [
            safetyCase("oneMember", "alice alone in the room: the roster is the viewer only", members: [alice]),
            safetyCase("threeMembers", "alice, bob and carol, as any of them sees the room", members: [alice, bob, carol]),
            safetyCase(
                "threeMembersOtherOrder", "the same roster presented in another order: the same code as threeMembers",
                members: [carol, alice, bob]),
            safetyCase(
                "keyChanged", "bob's id with mallory's key (a substituted key): a different code from threeMembers",
                members: [alice, member(bob.id, keyOf: mallory), carol]),
            safetyCase(
                "ghostAdded", "mallory as a fourth member, as a member the ghost exchanged keys with sees the room",
                members: [alice, bob, carol, mallory]),
            safetyCase(
                "otherRoom", "the roster of threeMembers in another room: a different code",
                room: "other@rooms.example.org", members: [alice, bob, carol]),
            safetyCase(
                "mixedLengthIds", "ids of unequal length sort by their bytes: Zed < al < alice < b",
                members: [member("b", keyOf: alice), member("Zed", keyOf: bob), member("alice", keyOf: carol), member("al", keyOf: mallory)]),
        ]
        let invalid: [[String: Any]] = try [
            invalidSafetyCase("noMembers", "a roster without any member", members: []),
            invalidSafetyCase("duplicateId", "bob's id twice, with two keys", members: [alice, bob, member(bob.id, keyOf: mallory)]),
            invalidSafetyCase("duplicateKey", "bob's key twice, under two ids", members: [alice, bob, member(mallory.id, keyOf: bob)]),
            invalidSafetyCase("emptyId", "an empty id", members: [member("", keyOf: alice)]),
            invalidSafetyCase("idTooLong", "an id of 256 bytes", members: [member(String(repeating: "x", count: 256), keyOf: alice)]),
            invalidSafetyCase("emptyRoom", "an empty room address", room: "", members: [alice]),
            invalidSafetyCase(
                "roomTooLong", "a room address of 1024 bytes", room: String(repeating: "r", count: 1010) + "@rooms.example",
                members: [alice]),
        ]
        return [
            "document": "CR-0007",
            "description": "Room safety codes: each case lists the roster as presented, and the sorted ids, the encoded roster, its SHA-256 and the code. Byte strings are lowercase hex; field names are defined in CR-0007 Appendix A.",
            "label": String(decoding: Label.safetyCode, as: UTF8.self),
            "parties": parties,
            "cases": cases,
            "invalidRosters": invalid,
            "randomInputsInOrder": inputs.used,
        ]
    }

    static func roster(_ members: [SafetyCode.Member]) -> [[String: String]] {
        members.map { ["id": $0.id, "identityPublic": $0.identity.bytes.hexString] }
    }

    static func safetyCase(
        _ name: String, _ description: String, room: String = safetyRoom, members: [SafetyCode.Member]
    ) throws -> [String: Any] {
        let code = try SafetyCode(room: room, members: members)
        let sorted = members.map(\.id).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return [
            "name": name, "description": description, "room": room, "members": roster(members), "sortedIds": sorted,
            "encoded": try SafetyCode.encode(room: room, members: members).hexString,
            "digest": code.digest.hexString, "code": code.text,
        ]
    }

    static func invalidSafetyCase(
        _ name: String, _ description: String, room: String = safetyRoom, members: [SafetyCode.Member]
    ) throws -> [String: Any] {
        #expect(throws: CryptoError.malformed, "\(name) was accepted") { try SafetyCode(room: room, members: members) }
        return ["name": name, "description": description, "room": room, "members": roster(members), "error": "roster-invalid"]
    }
}
