import CatroomCrypto
import Testing

/// X3DH and session set-up through `SessionStore` (SECURITY-CASES PC-05, PC-06, PC-09..PC-12, PC-15).
@Suite struct X3DHSessionTests {
    @Test func initialMessageCreatesTheSessionAndConsumesTheOneTimePreKeyOnce() throws {
        var alice = Member(), bob = Member(oneTimePreKeys: 3)
        let bundle = bob.bundle()
        try alice.store.initiateSession(with: bundle, peer: bob.id)
        let first = try alice.store.encrypt(Array("hi bob".utf8), to: bob.id)
        #expect(first.isPreKeyMessage)
        #expect(first.preKey?.oneTimePreKeyID == bundle.oneTimePreKey?.id)
        #expect(try bob.store.decrypt(first, from: alice.id).string == "hi bob")
        #expect(bob.store.preKeys.oneTimePreKeyCount == 2)
        #expect(bob.store.session(with: alice.id)?.remoteIdentity == alice.identity)
    }

    @Test func worksWithoutAOneTimePreKey() throws {
        var alice = Member(), bob = Member(oneTimePreKeys: 0)
        try alice.store.initiateSession(with: bob.bundle(withOneTimePreKey: false), peer: bob.id)
        let first = try alice.store.encrypt(Array("no opk".utf8), to: bob.id)
        #expect(first.preKey?.oneTimePreKeyID == nil)
        #expect(try bob.store.decrypt(first, from: alice.id).string == "no opk")
        let reply = try bob.store.encrypt(Array("ok".utf8), to: alice.id)
        #expect(try alice.store.decrypt(reply, from: bob.id).string == "ok")
    }

    @Test func initiatorRepeatsTheX3DHFieldsUntilTheFirstReply() throws {
        var alice = Member(), bob = Member()
        try alice.store.initiateSession(with: bob.bundle(), peer: bob.id)
        let messages = try (0..<3).map { try alice.store.encrypt(Array("m\($0)".utf8), to: bob.id) }
        #expect(messages.allSatisfy { $0.isPreKeyMessage })
        // The first is lost and the others arrive reversed: each still sets up or reuses the one session.
        #expect(try bob.store.decrypt(messages[2], from: alice.id).string == "m2")
        #expect(try bob.store.decrypt(messages[1], from: alice.id).string == "m1")
        let reply = try bob.store.encrypt(Array("r".utf8), to: alice.id)
        #expect(!reply.isPreKeyMessage)
        _ = try alice.store.decrypt(reply, from: bob.id)
        #expect(alice.store.session(with: bob.id)?.isAwaitingReply == false)
        #expect(try !alice.store.encrypt([1], to: bob.id).isPreKeyMessage)
        #expect(try bob.store.decrypt(messages[0], from: alice.id).string == "m0")
    }

    @Test func replayedInitialMessageCreatesNoSecondSession() throws {
        var alice = Member(), bob = Member()
        try alice.store.initiateSession(with: bob.bundle(), peer: bob.id)
        let first = try alice.store.encrypt(Array("once".utf8), to: bob.id)
        _ = try bob.store.decrypt(first, from: alice.id)
        let reply = try bob.store.encrypt(Array("r".utf8), to: alice.id)
        // (a) The same initial message again: a duplicate, and the session is unchanged.
        let before = bob.store.session(with: alice.id)!.serialized
        #expect(throws: CryptoError.duplicateMessage) { try bob.store.decrypt(first, from: alice.id) }
        #expect(bob.store.session(with: alice.id)!.serialized == before)
        // Even with Bob's session gone, the remembered base key stops a second session.
        var forgetful = bob
        forgetful.store.removeSession(with: alice.id)
        #expect(throws: CryptoError.duplicateMessage) { try forgetful.store.decrypt(first, from: alice.id) }
        #expect(forgetful.store.session(with: alice.id) == nil)
        // (b) Relabelled by the server as coming from Mallory: rejected, nothing created.
        let mallory = Member()
        #expect(throws: CryptoError.identityMismatch) { try bob.store.decrypt(first, from: mallory.id) }
        #expect(bob.store.session(with: mallory.id) == nil)
        #expect(try alice.store.decrypt(reply, from: bob.id).string == "r")
    }

    @Test func everyBitOfABadSignedPreKeySignatureAbortsBeforeAnyDH() throws {
        var alice = Member()
        let bob = Member()
        let bundle = bob.bundle()
        for bit in 0..<(64 * 8) {
            var signature = bundle.signedPreKey.signature
            signature[bit / 8] ^= 1 << UInt8(bit % 8)
            let forged = PreKeyBundle(
                identityKey: bundle.identityKey,
                signedPreKey: SignedPreKey(id: bundle.signedPreKey.id, publicKey: bundle.signedPreKey.publicKey, signature: signature),
                oneTimePreKey: bundle.oneTimePreKey)
            #expect(throws: CryptoError.invalidSignature) { try alice.store.initiateSession(with: forged, peer: bob.id) }
        }
        // A prekey signed by someone else, and a truncated signature.
        let other = Member().bundle()
        for signedPreKey in [
            other.signedPreKey,
            SignedPreKey(id: 1, publicKey: bundle.signedPreKey.publicKey, signature: Array(bundle.signedPreKey.signature.dropLast())),
        ] {
            let forged = PreKeyBundle(identityKey: bundle.identityKey, signedPreKey: signedPreKey, oneTimePreKey: nil)
            #expect(throws: CryptoError.invalidSignature) { try alice.store.initiateSession(with: forged, peer: bob.id) }
        }
        #expect(alice.store.session(with: bob.id) == nil)
        try alice.store.initiateSession(with: bundle, peer: bob.id)
    }

    @Test func bundleMustBelongToThePeerItIsFetchedFor() throws {
        var alice = Member()
        let bob = Member(), mallory = Member()
        // The server hands out Mallory's bundle when Alice asks for Bob's (PC-10).
        #expect(throws: CryptoError.identityMismatch) { try alice.store.initiateSession(with: mallory.bundle(), peer: bob.id) }
        #expect(throws: CryptoError.identityMismatch) { try alice.store.initiateSession(with: alice.bundle(), peer: alice.id) }
    }

    @Test func tamperedInitialMessageConsumesNothing() throws {
        var alice = Member(), bob = Member(oneTimePreKeys: 1)
        try alice.store.initiateSession(with: bob.bundle(), peer: bob.id)
        let first = try alice.store.encrypt(Array("genuine".utf8), to: bob.id)
        var bytes = first.encoded
        bytes[bytes.count - 20] ^= 0x04
        #expect(throws: CryptoError.decryptionFailed) { try bob.store.decrypt(SessionMessage(decoding: bytes), from: alice.id) }
        // A different (valid-looking) base key changes SK: fails as well.
        let forgedBase = SessionMessage(
            preKey: PreKeyInfo(
                identityKey: first.preKey!.identityKey, baseKey: X25519.KeyPair.generate().publicKey,
                signedPreKeyID: first.preKey!.signedPreKeyID, oneTimePreKeyID: first.preKey!.oneTimePreKeyID),
            header: first.header, ciphertext: first.ciphertext)
        #expect(throws: CryptoError.decryptionFailed) { try bob.store.decrypt(forgedBase, from: alice.id) }
        #expect(bob.store.preKeys.oneTimePreKeyCount == 1)
        #expect(bob.store.session(with: alice.id) == nil)
        #expect(try bob.store.decrypt(first, from: alice.id).string == "genuine")
        #expect(bob.store.preKeys.oneTimePreKeyCount == 0)
    }

    /// CR-0001 §5.2 responder step 4: a low-order EK_A makes DH2 fail, so the message is
    /// rejected as an invalid key before SK exists, and the prekey and base key stay unused.
    @Test func rejectsALowOrderBaseKeyBeforeDerivingAnything() throws {
        var alice = Member(), bob = Member(oneTimePreKeys: 1)
        try alice.store.initiateSession(with: bob.bundle(), peer: bob.id)
        let first = try alice.store.encrypt(Array("genuine".utf8), to: bob.id)
        for encoded in KeyValidationTests.lowOrderPoints {
            let forged = SessionMessage(
                preKey: PreKeyInfo(
                    identityKey: alice.identity, baseKey: try X25519.PublicKey(bytes: [UInt8](hex: encoded)!),
                    signedPreKeyID: first.preKey!.signedPreKeyID, oneTimePreKeyID: first.preKey!.oneTimePreKeyID),
                header: first.header, ciphertext: first.ciphertext)
            #expect(throws: CryptoError.invalidKey) { try bob.store.decrypt(forged, from: alice.id) }
            #expect(bob.store.preKeys.oneTimePreKeyCount == 1)
            #expect(bob.store.session(with: alice.id) == nil)
        }
        #expect(try bob.store.decrypt(first, from: alice.id).string == "genuine")
    }

    @Test func unknownPreKeysAreRejected() throws {
        var alice = Member(), bob = Member(oneTimePreKeys: 1)
        let bundle = bob.bundle()
        try alice.store.initiateSession(with: bundle, peer: bob.id)
        let first = try alice.store.encrypt([1], to: bob.id)
        for (spk, opk) in [(bundle.signedPreKey.id + 1, bundle.oneTimePreKey?.id), (bundle.signedPreKey.id, 99)] {
            let message = SessionMessage(
                preKey: PreKeyInfo(identityKey: alice.identity, baseKey: first.preKey!.baseKey, signedPreKeyID: spk, oneTimePreKeyID: opk),
                header: first.header, ciphertext: first.ciphertext)
            #expect(throws: CryptoError.unknownPreKey) { try bob.store.decrypt(message, from: alice.id) }
        }
    }

    /// PC-11/PC-12: an attacker cannot pass off its own X3DH run as Alice's; without IK_A's
    /// private key, Bob derives another SK and nothing is attributed to Alice.
    @Test func initialMessageCannotBeAttributedToAnotherIdentity() throws {
        var mallory = Member(), bob = Member()
        let alice = Member()
        try mallory.store.initiateSession(with: bob.bundle(), peer: bob.id)
        let forged = try mallory.store.encrypt(Array("I am alice".utf8), to: bob.id)
        let relabelled = SessionMessage(
            preKey: PreKeyInfo(
                identityKey: alice.identity, baseKey: forged.preKey!.baseKey,
                signedPreKeyID: forged.preKey!.signedPreKeyID, oneTimePreKeyID: forged.preKey!.oneTimePreKeyID),
            header: forged.header, ciphertext: forged.ciphertext)
        #expect(throws: CryptoError.decryptionFailed) { try bob.store.decrypt(relabelled, from: alice.id) }
        #expect(bob.store.session(with: alice.id) == nil)
    }

    @Test func simultaneousInitiationConverges() throws {
        var alice = Member(), bob = Member()
        try alice.store.initiateSession(with: bob.bundle(), peer: bob.id)
        try bob.store.initiateSession(with: alice.bundle(), peer: alice.id)
        let fromAlice = try alice.store.encrypt(Array("a0".utf8), to: bob.id)
        let fromBob = try bob.store.encrypt(Array("b0".utf8), to: alice.id)
        #expect(try bob.store.decrypt(fromAlice, from: alice.id).string == "a0")
        #expect(try alice.store.decrypt(fromBob, from: bob.id).string == "b0")
        // Both keep talking, with a loss and a repeat; every message decrypts once.
        var lost: SessionMessage?
        for round in 0..<6 {
            let a = try alice.store.encrypt(Array("a\(round)".utf8), to: bob.id)
            if round == 2 { lost = a } else { #expect(try bob.store.decrypt(a, from: alice.id).string == "a\(round)") }
            let b = try bob.store.encrypt(Array("b\(round)".utf8), to: alice.id)
            #expect(try alice.store.decrypt(b, from: bob.id).string == "b\(round)")
            if round == 3 { #expect(throws: CryptoError.duplicateMessage) { try alice.store.decrypt(b, from: bob.id) } }
        }
        #expect(try bob.store.decrypt(lost!, from: alice.id).string == "a2")
        #expect(!(try alice.store.encrypt([0], to: bob.id).isPreKeyMessage))
        #expect(!(try bob.store.encrypt([0], to: alice.id).isPreKeyMessage))
    }

    @Test func ratchetMessageWithoutASessionIsRejected() throws {
        var alice = Member(), bob = Member()
        try establish(&alice, &bob)
        let message = try alice.store.encrypt([1], to: bob.id)
        var stranger = Member()
        #expect(throws: CryptoError.noSession) { try stranger.store.decrypt(message, from: alice.id) }
        #expect(throws: CryptoError.noSession) { try stranger.store.encrypt([1], to: alice.id) }
    }
}
