import CatroomCrypto
import Foundation
import Testing

/// Session records survive serialisation, and the saved fixture of format version 1 keeps loading.
@Suite struct SerializationTests {
    @Test func restoredSessionCarriesOn() throws {
        var alice = Member(), bob = Member()
        try establish(&alice, &bob)
        // Leave skipped keys and a pending DH step behind.
        let held = try (0..<3).map { try alice.store.encrypt(Array("held\($0)".utf8), to: bob.id) }
        _ = try bob.store.decrypt(try alice.store.encrypt(Array("now".utf8), to: bob.id), from: alice.id)

        var restored = bob
        try restored.store.restore(SessionRecord(serialized: bob.store.session(with: alice.id)!.serialized), for: alice.id)
        #expect(restored.store.session(with: alice.id)!.serialized == bob.store.session(with: alice.id)!.serialized)
        #expect(restored.store.session(with: alice.id)!.skippedKeyCount == 3)
        for (i, message) in held.enumerated().reversed() {
            #expect(try restored.store.decrypt(message, from: alice.id).string == "held\(i)")
        }
        let reply = try restored.store.encrypt(Array("back".utf8), to: alice.id)
        #expect(try alice.store.decrypt(reply, from: bob.id).string == "back")
    }

    @Test func pendingInitiatorStateRoundTrips() throws {
        var alice = Member(), bob = Member()
        try alice.store.initiateSession(with: bob.bundle(), peer: bob.id)
        var restored = alice
        try restored.store.restore(SessionRecord(serialized: alice.store.session(with: bob.id)!.serialized), for: bob.id)
        let message = try restored.store.encrypt(Array("after restore".utf8), to: bob.id)
        #expect(message.isPreKeyMessage)
        #expect(try bob.store.decrypt(message, from: alice.id).string == "after restore")
    }

    @Test func rejectsCorruptOrForeignRecords() throws {
        var alice = Member(), bob = Member()
        try establish(&alice, &bob)
        let bytes = bob.store.session(with: alice.id)!.serialized.unprotectedBytes
        var version = bytes
        version[0] = 9
        #expect(throws: CryptoError.unsupportedVersion(9)) { try SessionRecord(serialized: version) }
        for length in [0, 1, 2, 100, bytes.count - 1] {
            #expect(throws: CryptoError.self) { try SessionRecord(serialized: Array(bytes.prefix(length))) }
        }
        #expect(throws: CryptoError.malformed) { try SessionRecord(serialized: bytes + [0]) }
        // A record restored under the wrong peer id is refused.
        let record = try SessionRecord(serialized: bytes)
        #expect(throws: CryptoError.identityMismatch) { try bob.store.restore(record, for: Member().id) }
    }

    /// Found by the `ratchet` fuzz target: two skipped keys under one index loaded, and the
    /// record wrote the last one back in place of the first.
    @Test func refusesTwoSkippedKeysUnderOneIndex() throws {
        var alice = Member(), bob = Member()
        try establish(&alice, &bob)
        _ = try (0..<2).map { try alice.store.encrypt(Array("held\($0)".utf8), to: bob.id) }
        _ = try bob.store.decrypt(try alice.store.encrypt(Array("now".utf8), to: bob.id), from: alice.id)
        var bytes = bob.store.session(with: alice.id)!.serialized.unprotectedBytes
        #expect(bytes[1] == 1)  // one state: the two entries (ratchet key, number, key) end the record
        let first = bytes.count - 2 * 68
        #expect(try SessionRecord(serialized: bytes).serialized.unprotectedBytes == bytes)
        bytes.replaceSubrange((first + 68)..<(first + 68 + 36), with: bytes[first..<(first + 36)])
        #expect(throws: CryptoError.malformed) { try SessionRecord(serialized: bytes) }
    }

    /// Tests/CatroomCryptoTests/Vectors/session-record-v1.json: a record saved in format 1 with the
    /// next message it must decrypt. Regenerate only when adding a format version, never to fix a failure.
    @Test func savedVersion1FixtureStillLoadsAndDecrypts() throws {
        let fixture = try loadJSON("session-record-v1.json")
        let record = try SessionRecord(serialized: hex(fixture["record"]))
        var bobPreKeys = PreKeyStore(identity: try IdentityKeyPair(seed: SecretBytes(copying: hex(fixture["bobIdentitySeed"]))))
        _ = bobPreKeys.generateOneTimePreKeys(count: 0)
        var bob = SessionStore(preKeys: bobPreKeys)
        let alice = try #require(fixture["alice"] as? String)
        try bob.restore(record, for: alice)
        let message = try SessionMessage(decoding: hex(fixture["nextMessage"]))
        #expect(try bob.decrypt(message, from: alice).string == fixture["nextPlaintext"] as? String)
        #expect(record.serialized.unprotectedBytes == hex(fixture["record"]))
    }
}
