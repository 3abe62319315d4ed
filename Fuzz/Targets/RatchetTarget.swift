import CatroomCrypto

// Pairwise messages and session records (Sources/CatroomCrypto/Ratchet, CR-0001 §5.5,
// Appendix B). Input: a mode byte, then an encoded message (to Bob before or after
// Alice's first message reached him) or an encoded session record. Invariants:
// - a message that decodes re-encodes to the same bytes (one encoding per message);
// - a message that fails to decrypt changes nothing: Bob's serialised session and his
//   one-time prekeys are the same before and after;
// - only messages Alice really sent decrypt, and each only once;
// - a record that loads serialises back to the same bytes.

extension FuzzTarget {
    static let ratchet = FuzzTarget(name: "ratchet", run: { bytes in
        var input = FuzzInput(bytes)
        let mode = input.byte() % 3
        let rest = input.remaining()
        let world = RatchetWorld.shared
        guard mode < 2 else {
            if let record = try? SessionRecord(serialized: rest) {
                invariant(record.serialized.unprotectedBytes == rest, "a session record loads from bytes it would not write")
            }
            return
        }
        guard let message = try? SessionMessage(decoding: rest) else { return }
        invariant(message.encoded == rest, "a message decodes from bytes it would not encode")
        var bob = mode == 0 ? world.bobBeforeFirstMessage : world.bob
        let before = world.state(of: bob)
        do {
            _ = try bob.decrypt(message, from: world.aliceID)
        } catch {
            invariant(world.state(of: bob) == before, "a message that failed to decrypt (\(error)) changed Bob's state")
            return
        }
        invariant(world.genuine.contains(rest), "a message Alice never sent decrypted")
        let after = world.state(of: bob)
        invariant((try? bob.decrypt(message, from: world.aliceID)) == nil, "a message decrypted twice")
        invariant(world.state(of: bob) == after, "a replay changed Bob's state")
    }, seeds: { RatchetWorld.shared.seeds })
}

/// Alice, who has Bob's bundle and sent him messages, and Bob before and after the first.
struct RatchetWorld: Sendable {
    let aliceID: String
    let bobBeforeFirstMessage: SessionStore
    let bob: SessionStore
    /// Every message Alice sent Bob, encoded.
    let genuine: Set<[UInt8]>
    let seeds: [String: [UInt8]]

    static let shared = RatchetWorld()

    /// What a failed decryption must leave alone: the serialised session with Alice and the prekeys.
    func state(of store: SessionStore) -> [UInt8] {
        (store.session(with: aliceID)?.serialized.unprotectedBytes ?? []) + [UInt8(truncatingIfNeeded: store.preKeys.oneTimePreKeyCount)]
    }

    private init() {
        var entropy = FuzzEntropy(label: "ratchet")
        var bobPreKeys = PreKeyStore(identity: .generate(using: &entropy), using: &entropy)
        let oneTime = bobPreKeys.generateOneTimePreKeys(count: 3, using: &entropy)
        var bob = SessionStore(preKeys: bobPreKeys)
        var alice = SessionStore(preKeys: PreKeyStore(identity: .generate(using: &entropy), using: &entropy))
        aliceID = alice.accountID
        do {
            try alice.initiateSession(with: bob.preKeys.bundle(oneTimePreKeyID: oneTime[0].id), peer: bob.accountID, using: &entropy)
            var sent: [[UInt8]] = []
            func send(_ text: String) throws {
                sent.append(try alice.encrypt(Array(text.utf8), to: bob.accountID, using: &entropy).encoded)
            }
            try send("first, with the X3DH fields")
            try send("second, still with them")
            bobBeforeFirstMessage = bob
            _ = try bob.decrypt(SessionMessage(decoding: sent[0]), from: aliceID)
            self.bob = bob
            let reply = try bob.encrypt(Array("reply".utf8), to: aliceID, using: &entropy)
            _ = try alice.decrypt(reply, from: bob.accountID)
            try send("third, after the reply")
            try send("fourth")
            try send("fifth")
            genuine = Set(sent)
            var seeds: [String: [UInt8]] = [:]
            for (index, message) in sent.enumerated() {
                seeds["message-\(index + 1)-to-fresh-bob"] = [0] + message
                seeds["message-\(index + 1)-to-bob"] = [1] + message
            }
            for (name, store, peer) in [("alice", alice, bob.accountID), ("bob", bob, aliceID)] {
                if let record = store.session(with: peer) { seeds["record-\(name)"] = [2] + record.serialized.unprotectedBytes }
            }
            self.seeds = seeds
        } catch {
            fatalError("the ratchet fuzz target could not set up its sessions: \(error)")
        }
    }
}
