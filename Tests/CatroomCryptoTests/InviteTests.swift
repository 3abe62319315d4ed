@testable import CatroomCrypto
import Foundation
import Testing

/// Invite proofs (CR-0008): the vectors of its Appendix A, and the properties they illustrate.
@Suite struct InviteTests {
    static let room = "lobby@rooms.example.org"

    static func identity(_ byte: UInt8) throws -> IdentityKey {
        try IdentityKeyPair(seed: SecretBytes(copying: [UInt8](repeating: byte, count: 32))).publicKey
    }

    /// Every value is derived from fixed inputs (no randomness), so the file is the same on every run.
    static func vectors() throws -> [String: Any] {
        let secretBytes = (0..<32).map { UInt8($0) }
        let secret = try InviteSecret(SecretBytes(copying: secretBytes))
        let other = try InviteSecret(SecretBytes(copying: [UInt8](repeating: 0xff, count: 32)))
        let seeds: [(String, UInt8)] = [("alice", 0xa1), ("bob", 0xb0), ("mallory", 0x3a)]
        var keys: [String: IdentityKey] = [:]
        var parties: [String: Any] = [:]
        for (name, seed) in seeds {
            keys[name] = try identity(seed)
            parties["\(name).identitySeed"] = [UInt8](repeating: seed, count: 32).hexString
            parties["\(name).identityKey"] = keys[name]!.bytes.hexString
        }
        let alice = keys["alice"]!, bob = keys["bob"]!, mallory = keys["mallory"]!
        let aliceToBob = try secret.proof(room: room, sender: alice, recipient: bob)
        func proofRecord(_ sender: String, _ recipient: String) throws -> [String: Any] {
            var message = Label.inviteProof + [0, UInt8(room.utf8.count)] + Array(room.utf8)
            message += keys[sender]!.bytes + keys[recipient]!.bytes
            return [
                "sender": sender, "recipient": recipient, "message": message.hexString,
                "proof": try secret.proof(room: room, sender: keys[sender]!, recipient: keys[recipient]!).hexString,
            ]
        }
        func rejection(_ name: String, _ description: String, verifier: InviteSecret, room: String, sender: IdentityKey, recipient: IdentityKey) throws -> [String: Any] {
            [
                "name": name, "description": description, "room": room,
                "secret": verifier.encoded == secret.encoded ? secretBytes.hexString : [UInt8](repeating: 0xff, count: 32).hexString,
                "sender": sender.bytes.hexString, "recipient": recipient.bytes.hexString,
                "expected": try verifier.proof(room: room, sender: sender, recipient: recipient).hexString,
                "presented": aliceToBob.hexString, "outcome": "not-invited",
            ]
        }
        return [
            "room": room,
            "secret": secretBytes.hexString,
            "secretText": secret.encoded,
            "parties": parties,
            "inviteKeyInfo": (Label.inviteKey + [0, UInt8(room.utf8.count)] + Array(room.utf8)).hexString,
            "inviteKey": try secret.inviteKey(room: room).unprotectedBytes.hexString,
            "proofs": [try proofRecord("alice", "bob"), try proofRecord("bob", "alice")],
            "rejections": [
                try rejection("wrong-room", "bob checks alice's proof in another room", verifier: secret,
                              room: "kitchen@rooms.example.org", sender: alice, recipient: bob),
                try rejection("swapped-direction", "alice's proof to bob reflected back to alice as bob's", verifier: secret,
                              room: room, sender: bob, recipient: alice),
                try rejection("wrong-secret", "bob holds another secret", verifier: other, room: room, sender: alice, recipient: bob),
                try rejection("substituted-key", "bob's session is with mallory's key (the server substituted it)", verifier: secret,
                              room: room, sender: mallory, recipient: bob),
            ],
        ]
    }

    @Test func vectorsMatchCR0008() throws {
        try ProtocolVectorTests.check("xep/CR-0008-vectors.json") { _ in try Self.vectors() }
    }

    @Test func appendixShowsEveryVectorValue() throws {
        try ProtocolVectorTests().appendixShowsEveryVectorValue(json: "xep/CR-0008-vectors.json", document: "xep/CR-0008-invites.md")
    }

    /// The committed vectors, recomputed from their inputs alone: every proof verifies,
    /// and every rejection's presented proof fails under the verifier's inputs.
    @Test func committedProofsVerifyAndRejectionsFail() throws {
        let json = try loadJSON("xep/CR-0008-vectors.json", inRepository: true)
        let room = try #require(json["room"] as? String)
        let secret = try InviteSecret(SecretBytes(copying: hex(json["secret"])))
        #expect(try InviteSecret(encoded: #require(json["secretText"] as? String)).encoded == secret.encoded)
        let parties = try #require(json["parties"] as? [String: String])
        let key = { (name: String) in try IdentityKey(bytes: hex(parties["\(name).identityKey"])) }
        for case let record as [String: String] in try #require(json["proofs"] as? [Any]) {
            let sender = try key(record["sender"] ?? ""), recipient = try key(record["recipient"] ?? "")
            #expect(secret.verify(hex(record["proof"]), room: room, sender: sender, recipient: recipient))
        }
        let rejections = try #require(json["rejections"] as? [[String: String]])
        #expect(rejections.count == 4)
        for record in rejections {
            let verifier = try InviteSecret(SecretBytes(copying: hex(record["secret"])))
            let sender = try IdentityKey(bytes: hex(record["sender"])), recipient = try IdentityKey(bytes: hex(record["recipient"]))
            let checkedRoom = try #require(record["room"])
            #expect(!verifier.verify(hex(record["presented"]), room: checkedRoom, sender: sender, recipient: recipient), "\(record["name"] ?? "")")
            #expect(verifier.verify(hex(record["expected"]), room: checkedRoom, sender: sender, recipient: recipient))
        }
    }

    @Test func aTruncatedOrFlippedProofFails() throws {
        let secret = InviteSecret.generate()
        let alice = try Self.identity(1), bob = try Self.identity(2)
        let proof = try secret.proof(room: Self.room, sender: alice, recipient: bob)
        #expect(proof.count == InviteSecret.proofCount)
        #expect(secret.verify(proof, room: Self.room, sender: alice, recipient: bob))
        #expect(!secret.verify(Array(proof.dropLast()), room: Self.room, sender: alice, recipient: bob))
        #expect(!secret.verify([], room: Self.room, sender: alice, recipient: bob))
        for index in proof.indices {
            var flipped = proof
            flipped[index] ^= 0x01
            #expect(!secret.verify(flipped, room: Self.room, sender: alice, recipient: bob))
        }
    }

    @Test func generatedSecretsAreFreshAndRoundTripAsText() throws {
        let one = InviteSecret.generate(), two = InviteSecret.generate()
        #expect(one.encoded != two.encoded)
        #expect(one.encoded.count == 52)
        #expect(try InviteSecret(encoded: one.encoded).encoded == one.encoded)
        #expect(try InviteSecret(encoded: one.encoded.uppercased()).encoded == one.encoded)
    }

    @Test(arguments: ["", "abc", String(repeating: "a", count: 51), String(repeating: "a", count: 53), String(repeating: "a", count: 51) + "b",
                      String(repeating: "a", count: 51) + "1", String(repeating: "a", count: 26)])
    func rejectsMalformedSecretText(_ text: String) {
        #expect(throws: CryptoError.self) { try InviteSecret(encoded: text) }
    }

    @Test func rejectsAnEmptyOrOversizedRoom() throws {
        let secret = InviteSecret.generate()
        let alice = try Self.identity(1)
        #expect(throws: CryptoError.malformed) { try secret.proof(room: "", sender: alice, recipient: alice) }
        let long = String(repeating: "r", count: Limits.maxRoomBytes + 1)
        #expect(throws: CryptoError.malformed) { try secret.proof(room: long, sender: alice, recipient: alice) }
    }

    @Test func base32DecodesOnlyCanonicalText() {
        for length in 0..<12 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 5) }
            #expect(Base32.decode(Base32.encode(bytes)) == bytes)
        }
        #expect(Base32.decode("mb") == nil)  // "b" leaves a non-zero unused bit
        #expect(Base32.decode("ma") == [0x60])
        #expect(Base32.decode("m=") == nil)
        #expect(Base32.decode("a") == nil)
    }
}
