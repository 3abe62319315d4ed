import CatroomCrypto
import Testing

/// Double Ratchet behaviour (SECURITY-CASES PC-01..PC-05, PC-13, PC-14).
@Suite struct DoubleRatchetTests {
    let alice: Member
    let bob: Member

    init() throws {
        var alice = Member(), bob = Member()
        try establish(&alice, &bob)
        self.alice = alice
        self.bob = bob
    }

    private func send(_ text: String, from sender: inout Member, to receiver: Member) throws -> SessionMessage {
        try sender.store.encrypt(Array(text.utf8), to: receiver.id)
    }

    private func receive(_ message: SessionMessage, at receiver: inout Member, from sender: Member) throws -> String {
        try receiver.store.decrypt(message, from: sender.id).string
    }

    @Test func deliversInOrder() throws {
        var alice = alice, bob = bob
        for i in 0..<20 {
            let message = try send("m\(i)", from: &alice, to: bob)
            #expect(try receive(message, at: &bob, from: alice) == "m\(i)")
        }
    }

    @Test func alternatingSendersStepTheRatchetEachTurn() throws {
        var alice = alice, bob = bob
        var keys = Set<X25519.PublicKey>()
        for i in 0..<10 {
            let a = try send("a\(i)", from: &alice, to: bob)
            #expect(try receive(a, at: &bob, from: alice) == "a\(i)")
            let b = try send("b\(i)", from: &bob, to: alice)
            #expect(try receive(b, at: &alice, from: bob) == "b\(i)")
            keys.insert(a.header.ratchetKey)
            keys.insert(b.header.ratchetKey)
            #expect(a.header.messageNumber == 0 && b.header.messageNumber == 0)
        }
        // A fresh ratchet key every turn (§3.5: each DH step generates a new key pair).
        #expect(keys.count == 20)
    }

    @Test func deliversOutOfOrderWithinAndAcrossChains() throws {
        var alice = alice, bob = bob
        let first = try (0..<5).map { try send("a\($0)", from: &alice, to: bob) }
        #expect(try receive(first[4], at: &bob, from: alice) == "a4")
        let reply = try send("b", from: &bob, to: alice)
        _ = try receive(reply, at: &alice, from: bob)
        let second = try (0..<3).map { try send("c\($0)", from: &alice, to: bob) }
        // New-chain messages first, then the old chain's, in reverse.
        #expect(try receive(second[2], at: &bob, from: alice) == "c2")
        #expect(try receive(second[0], at: &bob, from: alice) == "c0")
        for i in [3, 1, 0, 2] { #expect(try receive(first[i], at: &bob, from: alice) == "a\(i)") }
        #expect(try receive(second[1], at: &bob, from: alice) == "c1")
        #expect(bob.store.session(with: alice.id)!.skippedKeyCount == 0)
    }

    @Test func survivesPermanentLoss() throws {
        var alice = alice, bob = bob
        for i in 0..<50 {
            let message = try send("m\(i)", from: &alice, to: bob)
            if i % 7 != 3 { #expect(try receive(message, at: &bob, from: alice) == "m\(i)") }
        }
        let reply = try send("still here", from: &bob, to: alice)
        #expect(try receive(reply, at: &alice, from: bob) == "still here")
    }

    @Test func handlesLongOneSidedRuns() throws {
        var alice = alice, bob = bob
        for i in 0..<3000 {
            let message = try send("m\(i)", from: &alice, to: bob)
            #expect(try receive(message, at: &bob, from: alice) == "m\(i)")
        }
        let last = try send("last", from: &alice, to: bob)
        #expect(last.header.messageNumber == 3000)
    }

    @Test func reportsDuplicatesApartAndKeepsTheSession() throws {
        var alice = alice, bob = bob
        let message = try send("once", from: &alice, to: bob)
        #expect(try receive(message, at: &bob, from: alice) == "once")
        #expect(throws: CryptoError.duplicateMessage) { try receive(message, at: &bob, from: alice) }
        // A skipped key is used once too.
        let (a, b) = (try send("a", from: &alice, to: bob), try send("b", from: &alice, to: bob))
        _ = try receive(b, at: &bob, from: alice)
        _ = try receive(a, at: &bob, from: alice)
        #expect(throws: CryptoError.duplicateMessage) { try receive(a, at: &bob, from: alice) }
        // A replay on a finished chain, after the ratchet moved on.
        let reply = try send("r", from: &bob, to: alice)
        _ = try receive(reply, at: &alice, from: bob)
        let next = try send("next", from: &alice, to: bob)
        _ = try receive(next, at: &bob, from: alice)
        #expect(throws: CryptoError.duplicateMessage) { try receive(b, at: &bob, from: alice) }
        #expect(try receive(try send("after", from: &alice, to: bob), at: &bob, from: alice) == "after")
    }

    @Test func rejectsSkipBeyondTheLimitBeforeDerivingKeys() throws {
        var alice = alice, bob = bob
        var messages: [SessionMessage] = []
        for _ in 0...(Limits.maxSkip + 1) { messages.append(try send("x", from: &alice, to: bob)) }
        // Message maxSkip + 1 needs maxSkip + 1 skipped keys: rejected, nothing stored.
        #expect(throws: CryptoError.tooFarInFuture) { try receive(messages[Limits.maxSkip + 1], at: &bob, from: alice) }
        #expect(bob.store.session(with: alice.id)!.skippedKeyCount == 0)
        // Exactly maxSkip is allowed, and the session carries on.
        #expect(try receive(messages[Limits.maxSkip], at: &bob, from: alice) == "x")
        #expect(bob.store.session(with: alice.id)!.skippedKeyCount == Limits.maxSkip)
    }

    /// CR-0001 §5.4 step 2.2: the keys left in the old chain and those before the message
    /// in the new one count together, and exactly MAX_SKIP of them is still allowed.
    @Test func maxSkipCountsTheOldAndNewChainTogether() throws {
        var alice = alice, bob = bob
        _ = try receive(try send("a0", from: &alice, to: bob), at: &bob, from: alice)
        let lost = try send("a1", from: &alice, to: bob)
        _ = try receive(try send("b", from: &bob, to: alice), at: &alice, from: bob)
        // A new chain with PN = 2 while bob has Nr = 1: one key is left in the old chain.
        let messages = try (0...Limits.maxSkip).map { try send("n\($0)", from: &alice, to: bob) }
        let before = bob.store.session(with: alice.id)!.serialized
        #expect(throws: CryptoError.tooFarInFuture) { try receive(messages[Limits.maxSkip], at: &bob, from: alice) }
        #expect(bob.store.session(with: alice.id)!.serialized == before)
        #expect(try receive(messages[Limits.maxSkip - 1], at: &bob, from: alice) == "n\(Limits.maxSkip - 1)")
        #expect(bob.store.session(with: alice.id)!.skippedKeyCount == Limits.maxSkip)
        #expect(try receive(lost, at: &bob, from: alice) == "a1")
    }

    /// CR-0001 §5.4: a message is checked for being a duplicate, then against MAX_SKIP,
    /// then in the DH step, then by the AEAD; the first failing check names the error.
    @Test func checksDuplicateThenSkipLimitThenDHStepThenAEAD() throws {
        var alice = alice, bob = bob
        let earlier = try send("x", from: &alice, to: bob)
        _ = try receive(earlier, at: &bob, from: alice)
        _ = try receive(try send("y", from: &bob, to: alice), at: &alice, from: bob)
        let current = try send("z", from: &alice, to: bob)
        _ = try receive(current, at: &bob, from: alice)
        _ = try send("bob holds a ratchet key pair again", from: &bob, to: alice)
        let lowOrder = try X25519.PublicKey(bytes: [UInt8](hex: KeyValidationTests.lowOrderPoints[2])!)
        let fresh = X25519.KeyPair.generate().publicKey
        let cases: [(X25519.PublicKey, UInt32, UInt32, CryptoError)] = [
            (earlier.header.ratchetKey, 0, .max, .duplicateMessage),         // an earlier chain, however far
            (current.header.ratchetKey, 0, 0, .duplicateMessage),            // N below Nr
            (lowOrder, 1, UInt32(Limits.maxSkip) + 1, .tooFarInFuture),      // limit before the DH step
            (lowOrder, 1, UInt32(Limits.maxSkip), .decryptionFailed),        // the DH step fails
            (fresh, 1, UInt32(Limits.maxSkip), .decryptionFailed),           // the AEAD fails
        ]
        let before = bob.store.session(with: alice.id)!.serialized
        for (key, pn, n, error) in cases {
            let forged = SessionMessage(
                preKey: nil, header: RatchetHeader(ratchetKey: key, previousChainLength: pn, messageNumber: n),
                ciphertext: current.ciphertext)
            #expect(throws: error) { try receive(forged, at: &bob, from: alice) }
            #expect(bob.store.session(with: alice.id)!.serialized == before)
        }
    }

    @Test func rejectsForgedHugeCountersQuickly() throws {
        var alice = alice, bob = bob
        let genuine = try send("g", from: &alice, to: bob)
        for (pn, n) in [(UInt32(0), UInt32.max), (UInt32.max, 0), (UInt32.max, UInt32.max)] {
            // Same chain with a huge N, and a new ratchet key with a huge PN or N.
            for key in [genuine.header.ratchetKey, X25519.KeyPair.generate().publicKey] {
                let forged = SessionMessage(
                    preKey: nil, header: RatchetHeader(ratchetKey: key, previousChainLength: pn, messageNumber: n),
                    ciphertext: genuine.ciphertext)
                #expect(throws: CryptoError.tooFarInFuture) { try receive(forged, at: &bob, from: alice) }
            }
        }
        #expect(try receive(genuine, at: &bob, from: alice) == "g")
    }

    @Test func capsStoredSkippedKeysAndEvictsTheOldest() throws {
        // libsignal's recipe (test_message_key_limits) within our MAX_SKIP: send 2300,
        // deliver #1000, #2000 and #2299 (2297 keys skipped in all), then #5.
        var alice = alice, bob = bob
        let messages = try (0..<2300).map { try send("m\($0)", from: &alice, to: bob) }
        for i in [1000, 2000, 2299] {
            #expect(try receive(messages[i], at: &bob, from: alice) == "m\(i)")
        }
        #expect(bob.store.session(with: alice.id)!.skippedKeyCount == Limits.maxSkippedKeys)
        // #5 was among the oldest and has been evicted; #400 and #2298 are still there.
        #expect(throws: CryptoError.duplicateMessage) { try receive(messages[5], at: &bob, from: alice) }
        #expect(try receive(messages[400], at: &bob, from: alice) == "m400")
        #expect(try receive(messages[2298], at: &bob, from: alice) == "m2298")
        #expect(bob.store.session(with: alice.id)!.skippedKeyCount == Limits.maxSkippedKeys - 2)
    }

    @Test(arguments: ["header", "ciphertext", "tag"])
    func keepsStateWhenATamperedMessageFails(part: String) throws {
        var alice = alice, bob = bob
        let skippedOne = try send("skipped", from: &alice, to: bob)
        let message = try send("genuine", from: &alice, to: bob)
        var bytes = message.encoded
        switch part {
        case "header": bytes[2 + 32 + 3] ^= 0x01        // N
        case "ciphertext": bytes[2 + 40] ^= 0x01
        default: bytes[bytes.count - 1] ^= 0x01
        }
        let tampered = try SessionMessage(decoding: bytes)
        let before = bob.store.session(with: alice.id)!.serialized
        #expect(throws: CryptoError.self) { try receive(tampered, at: &bob, from: alice) }
        #expect(bob.store.session(with: alice.id)!.serialized == before)
        #expect(try receive(message, at: &bob, from: alice) == "genuine")
        #expect(try receive(skippedOne, at: &bob, from: alice) == "skipped")
    }

    @Test func keepsStateWhenANewRatchetKeyIsForged() throws {
        var alice = alice, bob = bob
        let genuine = try send("genuine", from: &alice, to: bob)
        let forged = SessionMessage(
            preKey: nil,
            header: RatchetHeader(ratchetKey: X25519.KeyPair.generate().publicKey, previousChainLength: 3, messageNumber: 2),
            ciphertext: genuine.ciphertext)
        let before = bob.store.session(with: alice.id)!.serialized
        #expect(throws: CryptoError.decryptionFailed) { try receive(forged, at: &bob, from: alice) }
        #expect(bob.store.session(with: alice.id)!.serialized == before)
        #expect(try receive(genuine, at: &bob, from: alice) == "genuine")
    }

    @Test func bindsTheCallersAssociatedData() throws {
        var alice = alice, bob = bob
        let message = try alice.store.encrypt(Array("x".utf8), to: bob.id, associatedData: [1, 2, 3])
        #expect(throws: CryptoError.decryptionFailed) { try bob.store.decrypt(message, from: alice.id, associatedData: [1, 2, 4]) }
        #expect(throws: CryptoError.decryptionFailed) { try bob.store.decrypt(message, from: alice.id) }
        #expect(try bob.store.decrypt(message, from: alice.id, associatedData: [1, 2, 3]).string == "x")
    }

    /// PC-13: a snapshot of Bob's state cannot read what came before it, nor, after one round trip, what comes after.
    @Test func snapshotReadsNeitherPastNorFutureAfterARoundTrip() throws {
        var alice = alice, bob = bob
        let past = try send("past", from: &alice, to: bob)
        _ = try receive(past, at: &bob, from: alice)
        let snapshot = bob.store.session(with: alice.id)!.serialized
        var thief = bob
        try thief.store.restore(SessionRecord(serialized: snapshot), for: alice.id)
        #expect(throws: CryptoError.duplicateMessage) { try receive(past, at: &thief, from: alice) }

        _ = try receive(try send("b", from: &bob, to: alice), at: &alice, from: bob)
        _ = try receive(try send("a", from: &alice, to: bob), at: &bob, from: alice)
        _ = try receive(try send("b2", from: &bob, to: alice), at: &alice, from: bob)
        let future = try send("future", from: &alice, to: bob)
        #expect(throws: CryptoError.self) { try receive(future, at: &thief, from: alice) }
        #expect(try receive(future, at: &bob, from: alice) == "future")
    }

    @Test func rejectsMessagesFromAnotherSession() throws {
        var alice = alice, bob = bob
        var carol = Member()
        try establish(&carol, &bob)
        // Alice's ciphertext presented as coming from Carol (PC-11).
        let message = try send("for bob from alice", from: &alice, to: bob)
        #expect(throws: CryptoError.decryptionFailed) { try receive(message, at: &bob, from: carol) }
        #expect(try receive(message, at: &bob, from: alice) == "for bob from alice")
    }

    @Test func parsingRejectsMalformedAndUnknownVersions() throws {
        var alice = alice
        let bytes = try alice.store.encrypt([1], to: bob.id).encoded
        var unknownVersion = bytes
        unknownVersion[0] = 2
        #expect(throws: CryptoError.unsupportedVersion(2)) { try SessionMessage(decoding: unknownVersion) }
        var unknownType = bytes
        unknownType[1] = 9
        #expect(throws: CryptoError.malformed) { try SessionMessage(decoding: unknownType) }
        for length in [0, 1, 2, 20, 41, 42 + 15] {
            #expect(throws: CryptoError.self) { try SessionMessage(decoding: Array(bytes.prefix(length))) }
        }
        var highBit = bytes
        highBit[2 + 31] |= 0x80
        #expect(throws: CryptoError.invalidKey) { try SessionMessage(decoding: highBit) }
        #expect(try SessionMessage(decoding: bytes).encoded == bytes)
    }

    /// CR-0001 §5.5: fields are checked in the order they appear; the first failure names the error.
    @Test func parsingStopsAtTheFirstBadField() throws {
        var carol = Member(), bob = bob
        try carol.store.initiateSession(with: bob.bundle(), peer: bob.id)
        let initial = try carol.store.encrypt([1], to: bob.id).encoded
        // version, type, IK_A (2...33), EK_A (34...65), spk_id, has_opk (70), opk_id, DHs (75...106), PN, Ns, ciphertext (115...)
        let (identityEnd, flag, ratchetKeyEnd, ciphertext) = (33, 70, 106, 115)
        #expect(initial[1] == 0x02 && initial[flag] == 1 && initial.count == ciphertext + 17)
        var badVersionAndKey = initial
        badVersionAndKey[0] = 7
        badVersionAndKey[ratchetKeyEnd] |= 0x80
        #expect(throws: CryptoError.unsupportedVersion(7)) { try SessionMessage(decoding: badVersionAndKey) }
        var badIdentityAndFlag = initial
        // y = 2^255 − 1 ≥ p: never a canonical encoding (§4.3).
        badIdentityAndFlag.replaceSubrange(2...identityEnd, with: [UInt8](repeating: 0xff, count: 31) + [0x7f])
        badIdentityAndFlag[flag] = 2
        #expect(throws: CryptoError.invalidKey) { try SessionMessage(decoding: badIdentityAndFlag) }
        var badFlagAndRatchetKey = initial
        badFlagAndRatchetKey[flag] = 2
        badFlagAndRatchetKey[ratchetKeyEnd] |= 0x80
        #expect(throws: CryptoError.malformed) { try SessionMessage(decoding: badFlagAndRatchetKey) }
        var badRatchetKeyAndShortCiphertext = Array(initial.prefix(ciphertext + 15))
        badRatchetKeyAndShortCiphertext[ratchetKeyEnd] |= 0x80
        #expect(throws: CryptoError.invalidKey) { try SessionMessage(decoding: badRatchetKeyAndShortCiphertext) }
        #expect(throws: CryptoError.malformed) { try SessionMessage(decoding: Array(initial.prefix(ciphertext + 15))) }
    }
}
