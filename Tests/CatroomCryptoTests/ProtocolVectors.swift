@testable import CatroomCrypto
import Foundation
import Testing

/// Builds the test vectors of CR-0001 (sessions) and CR-0002 (fan-out) from their inputs.
///
/// The committed files `xep/CR-000N-vectors.json` are the source of truth: the
/// tests read the inputs (`randomInputsInOrder`) from them, run the
/// implementation, and require every intermediate and output value to match.
/// `CATROOM_WRITE_VECTORS=1 swift test --filter ProtocolVectorTests` rewrites them
/// from the default inputs; then run `python3 xep/tools/render_vectors.py`.
enum ProtocolVectors {
    /// Random inputs by name: read from a vector file, or made as SHA-256("catroom vectors <name>").
    final class Inputs {
        private let table: [String: [UInt8]]?
        /// Every input used, in the order used, with who drew it and what for.
        private(set) var used: [[String: String]] = []

        init(table: [String: [UInt8]]?) { self.table = table }

        func callAsFunction(_ name: String, party: String, use: String, count: Int = 32) -> [UInt8] {
            let value: [UInt8]
            if let table {
                guard let found = table[name] else {
                    Issue.record("input \(name) is missing from the vector file")
                    return [UInt8](repeating: 0, count: count)
                }
                value = found
            } else {
                value = Array(SHA256.hash(Array("catroom vectors \(name)".utf8)).prefix(count))
            }
            used.append(["name": name, "party": party, "use": use, "value": value.hexString])
            return value
        }
    }

    static func hex(_ secret: SecretBytes) -> String { secret.unprotectedBytes.hexString }

    // MARK: - Participants

    struct Party {
        var store: SessionStore
        var id: String { store.accountID }
    }

    /// A party whose identity seed, signed prekey (id 1) and one one-time prekey (id 1) are inputs.
    static func party(_ name: String, inputs: Inputs, record: inout [String: Any]) throws -> Party {
        let seed = inputs("\(name).identitySeed", party: name, use: "Ed25519 identity seed")
        let spk = inputs("\(name).signedPreKeyPrivate", party: name, use: "signed prekey 1, private")
        let opk = inputs("\(name).oneTimePreKeyPrivate", party: name, use: "one-time prekey 1, private")
        let identity = try IdentityKeyPair(seed: SecretBytes(copying: seed))
        var entropy = ScriptedEntropy([spk, opk])
        var preKeys = PreKeyStore(identity: identity, signedPreKeyID: 1, using: &entropy)
        let oneTime = preKeys.generateOneTimePreKeys(count: 1, using: &entropy)[0]
        record["\(name).identitySeed"] = seed.hexString
        record["\(name).identityPublic"] = identity.publicKey.bytes.hexString
        record["\(name).identityX25519Private"] = hex(identity.agreementKey.secret)
        record["\(name).identityX25519Public"] = identity.publicKey.agreementKey.bytes.hexString
        record["\(name).accountID"] = identity.publicKey.accountID
        record["\(name).fingerprint"] = identity.publicKey.fingerprint
        record["\(name).signedPreKeyId"] = Int(preKeys.signedPreKey.id)
        record["\(name).signedPreKeyPrivate"] = spk.hexString
        record["\(name).signedPreKeyPublic"] = preKeys.signedPreKey.publicKey.bytes.hexString
        record["\(name).signedPreKeySignature"] = preKeys.signedPreKey.signature.hexString
        record["\(name).oneTimePreKeyId"] = Int(oneTime.id)
        record["\(name).oneTimePreKeyPrivate"] = opk.hexString
        record["\(name).oneTimePreKeyPublic"] = oneTime.publicKey.bytes.hexString
        return Party(store: SessionStore(preKeys: preKeys))
    }

    /// Everything that happened in one send: the deferred DH step if any, the
    /// chain step, the AEAD inputs and the encoded message (CR-0001 §5.4, §5.5).
    static func sendRecord(
        before: SessionState, after: SessionState, message: SessionMessage, context: [UInt8], ratchetInput: [UInt8]?
    ) throws -> [String: Any] {
        var record: [String: Any] = [:]
        var chainKey = before.sendingChain
        if chainKey == nil {
            let dhOutput = try after.sendingRatchetKey!.privateKey.sharedSecret(with: before.receivingRatchetKey!)
            let (root, chain) = before.rootKey.ratchet(with: dhOutput)
            #expect(root.secret == after.rootKey.secret)
            chainKey = chain
            record["dhStep"] = [
                "ratchetPrivate": ratchetInput!.hexString,
                "ratchetPublic": after.sendingRatchetKey!.publicKey.bytes.hexString,
                "remoteRatchetPublic": before.receivingRatchetKey!.bytes.hexString,
                "dhOutput": hex(dhOutput),
                "rootKeyBefore": hex(before.rootKey.secret),
                "rootKeyAfter": hex(root.secret),
                "chainKey": hex(chain.secret),
            ]
        }
        let (messageKey, next) = chainKey!.step()
        #expect(next.secret == after.sendingChain!.secret)
        let aead = messageKey.aeadKeyAndNonce().unprotectedBytes
        record["chainKey"] = hex(chainKey!.secret)
        record["messageKey"] = hex(messageKey.secret)
        record["nextChainKey"] = hex(next.secret)
        record["aeadKey"] = Array(aead[0..<32]).hexString
        record["aeadNonce"] = Array(aead[32..<56]).hexString
        record["headerBytes"] = message.authenticatedPrefix.hexString
        record["messageAD"] = (after.associatedData + message.authenticatedPrefix + context).hexString
        record["encoded"] = message.encoded.hexString
        return record
    }

    // MARK: - CR-0001

    /// X3DH between alice and bob, a scripted conversation with DH steps and
    /// out-of-order delivery, an X3DH run without a one-time prekey, and inputs
    /// that must be rejected.
    static func sessionVectors(inputs: Inputs) throws -> [String: Any] {
        var parties: [String: Any] = [:]
        var alice = try party("alice", inputs: inputs, record: &parties)
        var bob = try party("bob", inputs: inputs, record: &parties)
        let freshBob = bob
        let bundle = bob.store.preKeys.bundle(oneTimePreKeyID: 1)

        // X3DH §3.3, recomputed step by step beside SessionStore's own run.
        let ephemeralInput = inputs("alice.ephemeralPrivate", party: "alice", use: "EK_A for X3DH with bob")
        let ephemeral = X25519.KeyPair(privateKey: try .init(secret: SecretBytes(copying: ephemeralInput)))
        let aliceX = alice.store.identity.agreementKey
        let dh = try [
            aliceX.sharedSecret(with: bundle.signedPreKey.publicKey),
            ephemeral.privateKey.sharedSecret(with: bundle.identityKey.agreementKey),
            ephemeral.privateKey.sharedSecret(with: bundle.signedPreKey.publicKey),
            ephemeral.privateKey.sharedSecret(with: bundle.oneTimePreKey!.publicKey),
        ]
        let agreement = try X3DH.initiate(identity: alice.store.identity, ephemeral: ephemeral, bundle: bundle)
        let x3dh: [String: Any] = [
            "signedPreKeyId": 1, "oneTimePreKeyId": 1,
            "aliceEphemeralPrivate": ephemeralInput.hexString,
            "aliceEphemeralPublic": ephemeral.publicKey.bytes.hexString,
            "dh1": hex(dh[0]), "dh2": hex(dh[1]), "dh3": hex(dh[2]), "dh4": hex(dh[3]),
            "kdfInputKeyMaterial": ([UInt8](repeating: 0xff, count: 32) + dh.flatMap(\.unprotectedBytes)).hexString,
            "sharedSecret": hex(agreement.sharedSecret),
            "adX3DH": agreement.associatedData.hexString,
        ]
        var entropy = ScriptedEntropy([ephemeralInput])
        try alice.store.initiateSession(with: bundle, peer: bob.id, using: &entropy)

        // The conversation: (actor, action, message). A receive delivers the named message.
        let script: [(String, String, String)] = [
            ("alice", "send", "A1"), ("alice", "send", "A2"),
            ("bob", "receive", "A2"), ("bob", "receive", "A1"),
            ("bob", "send", "B1"), ("bob", "send", "B2"),
            ("alice", "receive", "B1"), ("alice", "receive", "B2"),
            ("alice", "send", "A3"), ("alice", "send", "A4"),
            ("bob", "receive", "A4"),
            ("bob", "send", "B3"),
            ("alice", "receive", "B3"),
            ("bob", "receive", "A3"),
        ]
        var sent: [String: SessionMessage] = [:]
        var steps: [[String: Any]] = []
        for (actor, action, name) in script {
            let peer = actor == "alice" ? bob : alice
            var me = actor == "alice" ? alice : bob
            let before = me.store.session(with: peer.id)?.current
            var step: [String: Any] = ["actor": actor, "action": action, "message": name]
            if action == "send" {
                let plaintext = Array("message \(name) from \(actor)".utf8)
                let ratchetInput = before!.sendingChain == nil
                    ? inputs("\(actor).ratchetPrivate.\(name)", party: actor, use: "DHs generated when sending \(name)") : nil
                var entropy = ScriptedEntropy(ratchetInput.map { [$0] } ?? [])
                let message = try me.store.encrypt(plaintext, to: peer.id, using: &entropy)
                step.merge(try sendRecord(
                    before: before!, after: me.store.session(with: peer.id)!.current, message: message, context: [],
                    ratchetInput: ratchetInput)) { $1 }
                step["plaintext"] = plaintext.hexString
                sent[name] = message
            } else {
                let plaintext = try me.store.decrypt(sent[name]!, from: peer.id)
                let after = me.store.session(with: peer.id)!.current
                step["plaintext"] = plaintext.unprotectedBytes.hexString
                if before?.receivingRatchetKey != after.receivingRatchetKey {
                    // Receiving half of a DH step: the responder's first one uses SPK_B as DHs.
                    let local = before?.sendingRatchetKey ?? bob.store.preKeys.signedPreKeyPair
                    let dhOutput = try local.privateKey.sharedSecret(with: after.receivingRatchetKey!)
                    let rootBefore = before?.rootKey ?? RootKey(secret: agreement.sharedSecret)
                    let (root, chain) = rootBefore.ratchet(with: dhOutput)
                    #expect(root.secret == after.rootKey.secret)
                    step["dhStep"] = [
                        "remoteRatchetPublic": after.receivingRatchetKey!.bytes.hexString,
                        "dhOutput": hex(dhOutput),
                        "rootKeyBefore": hex(rootBefore.secret),
                        "rootKeyAfter": hex(root.secret),
                        "chainKey": hex(chain.secret),
                    ]
                }
                step["skippedKeysInSession"] = after.skipped.count
            }
            if actor == "alice" { alice = me } else { bob = me }
            steps.append(step)
        }
        return [
            "document": "CR-0001",
            "description": "X3DH between alice and bob with one-time prekey 1, a Double Ratchet conversation with DH steps and out-of-order delivery, an X3DH run without a one-time prekey, and inputs that must be rejected. Byte strings are lowercase hex; field names are defined in CR-0001 Appendix A.",
            "parties": parties,
            "x3dh": x3dh,
            "conversation": steps,
            "withoutOneTimePreKey": try withoutOneTimePreKey(alice: alice, bob: freshBob, inputs: inputs),
            "invalidInputs": try invalidInputs(bob: bob, inputs: inputs),
            "lowOrderBaseKey": try lowOrderBaseKey(bob: freshBob, initial: sent["A1"]!, from: alice.id),
            "maxSkip": try maxSkip(alice: alice, bob: bob),
            "randomInputsInOrder": inputs.used,
        ]
    }

    /// CR-0001 §7.3's name for what a receiver reports.
    static func sessionOutcome(_ receive: () throws -> Void) -> String {
        do {
            try receive()
            return "accepted"
        } catch CryptoError.invalidKey {
            return "invalid key"
        } catch CryptoError.duplicateMessage {
            return "duplicate"
        } catch CryptoError.tooFarInFuture {
            return "too far in the future"
        } catch CryptoError.decryptionFailed {
            return "decryption failed"
        } catch {
            return "\(error)"
        }
    }

    /// A1 with a low-order EK_A, presented to bob before he has received anything: rejected
    /// at CR-0001 §5.2 responder step 4 (DH2), with no session made and no prekey used.
    static func lowOrderBaseKey(bob: Party, initial: SessionMessage, from alice: String) throws -> [[String: Any]] {
        let points = [
            ("u = 0", "0000000000000000000000000000000000000000000000000000000000000000"),
            ("u = 1", "0100000000000000000000000000000000000000000000000000000000000000"),
            ("a point of order 8", "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
            ("the other point of order 8", "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
            ("u = p - 1", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        ]
        let preKey = initial.preKey!
        return try points.map { name, encoded in
            let forged = SessionMessage(
                preKey: PreKeyInfo(
                    identityKey: preKey.identityKey, baseKey: try X25519.PublicKey(bytes: [UInt8](hex: encoded)!),
                    signedPreKeyID: preKey.signedPreKeyID, oneTimePreKeyID: preKey.oneTimePreKeyID),
                header: initial.header, ciphertext: initial.ciphertext)
            var receiver = bob
            let outcome = sessionOutcome { _ = try receiver.store.decrypt(forged, from: alice) }
            #expect(outcome == "invalid key")
            #expect(receiver.store.session(with: alice) == nil && receiver.store.preKeys.oneTimePreKeyCount == 1)
            #expect(try receiver.store.decrypt(initial, from: alice).unprotectedBytes == Array("message A1 from alice".utf8))
            return ["case": name, "baseKey": encoded, "encoded": forged.encoded.hexString, "outcome": outcome]
        }
    }

    /// The MAX_SKIP boundary (CR-0001 §5.4), from the state after the conversation, with no new
    /// random input: bob's genuine messages far along his current chain, received by alice,
    /// and forged ratchet messages presented to bob, each showing which check comes first.
    static func maxSkip(alice: Party, bob: Party) throws -> [String: Any] {
        var alice = alice, bob = bob
        // Bob sends messages 1...1002 on the chain B3 began; alice has received B3 (Nr = 1).
        var sent: [UInt32: SessionMessage] = [:]
        var records: [[String: Any]] = []
        var noEntropy = ScriptedEntropy([])
        for n in UInt32(1)...1002 {
            let before = bob.store.session(with: alice.id)!.current
            let plaintext = Array("message \(n) of bob's B3 chain".utf8)
            let message = try bob.store.encrypt(plaintext, to: alice.id, using: &noEntropy)
            #expect(message.header.messageNumber == n)
            guard n >= 1001 else { continue }
            var record = try sendRecord(
                before: before, after: bob.store.session(with: alice.id)!.current, message: message, context: [], ratchetInput: nil)
            record["messageNumber"] = Int(n)
            record["plaintext"] = plaintext.hexString
            records.append(record)
            sent[n] = message
        }
        var received: [[String: Any]] = []
        for n in [UInt32(1002), 1001, 1002] {
            let state = alice.store.session(with: bob.id)!.current
            let before = alice.store.session(with: bob.id)!.serialized
            var plaintext: [UInt8] = []
            let outcome = sessionOutcome { plaintext = try alice.store.decrypt(sent[n]!, from: bob.id).unprotectedBytes }
            if outcome != "accepted" { #expect(alice.store.session(with: bob.id)!.serialized == before) }
            var record: [String: Any] = [
                "messageNumber": Int(n), "skippedKeysNeeded": Int(n) - Int(state.receiveCount), "outcome": outcome,
                "skippedKeysInSession": alice.store.session(with: bob.id)!.skippedKeyCount,
            ]
            if outcome == "accepted" { record["plaintext"] = plaintext.hexString }
            received.append(record)
        }

        // Forged ratchet messages to bob (DHr = A3's key, Nr = 2, DHs = B3's key pair), 16-byte ciphertext.
        let state = bob.store.session(with: alice.id)!.current
        let earlierKey = state.previousReceivingKeys.last!
        let currentKey = state.receivingRatchetKey!
        let basePoint = try X25519.PublicKey(bytes: [9] + [UInt8](repeating: 0, count: 31))
        let lowOrder = try X25519.PublicKey(bytes: [UInt8](hex: "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")!)
        let cases: [(String, X25519.PublicKey, UInt32, UInt32)] = [
            ("the ratchet key of alice's first chain (A1's), an earlier one", earlierKey, 0, .max),
            ("the current ratchet key (A3's), N below Nr", currentKey, 0, 1),
            ("the current ratchet key, N = Nr + 1001", currentKey, 0, 1003),
            ("the current ratchet key, N = Nr + 1000", currentKey, 0, 1002),
            ("a new ratchet key (u = 9), one key left in the old chain, N = 1000", basePoint, 3, 1000),
            ("a new ratchet key (u = 9), one key left in the old chain, N = 999", basePoint, 3, 999),
            ("a low-order ratchet key, one key left in the old chain, N = 1000", lowOrder, 3, 1000),
            ("a low-order ratchet key, one key left in the old chain, N = 999", lowOrder, 3, 999),
            ("a new ratchet key (u = 9), PN below Nr, N = 1000", basePoint, 0, 1000),
        ]
        let forged = cases.map { name, key, pn, n -> [String: Any] in
            let message = SessionMessage(
                preKey: nil, header: RatchetHeader(ratchetKey: key, previousChainLength: pn, messageNumber: n),
                ciphertext: [UInt8](repeating: 0, count: 16))
            var receiver = bob
            let outcome = sessionOutcome { _ = try receiver.store.decrypt(message, from: alice.id) }
            #expect(receiver.store.session(with: alice.id)!.serialized == bob.store.session(with: alice.id)!.serialized)
            var record: [String: Any] = ["case": name, "encoded": message.encoded.hexString, "outcome": outcome]
            if outcome != "duplicate" {
                let rest = key == currentKey ? 0 : max(Int(pn) - Int(state.receiveCount), 0)
                let own = key == currentKey ? Int(state.receiveCount) : 0
                record["skippedKeysNeeded"] = rest + Int(n) - own
            }
            return record
        }
        return ["limit": Limits.maxSkip, "sent": records, "received": received, "forged": forged]
    }

    /// Alice starts a second session with a bob who has no one-time prekey to offer.
    static func withoutOneTimePreKey(alice: Party, bob: Party, inputs: Inputs) throws -> [String: Any] {
        var alice = alice, bob = bob
        alice.store.removeSession(with: bob.id)
        let bundle = bob.store.preKeys.bundle(oneTimePreKeyID: nil)
        let ephemeralInput = inputs("alice.ephemeralPrivate.noOPK", party: "alice", use: "EK_A for X3DH without a one-time prekey")
        let ratchetInput = inputs("alice.ratchetPrivate.noOPK", party: "alice", use: "DHs generated when sending the first message")
        let ephemeral = X25519.KeyPair(privateKey: try .init(secret: SecretBytes(copying: ephemeralInput)))
        let dh = try [
            alice.store.identity.agreementKey.sharedSecret(with: bundle.signedPreKey.publicKey),
            ephemeral.privateKey.sharedSecret(with: bundle.identityKey.agreementKey),
            ephemeral.privateKey.sharedSecret(with: bundle.signedPreKey.publicKey),
        ]
        let agreement = try X3DH.initiate(identity: alice.store.identity, ephemeral: ephemeral, bundle: bundle)
        var entropy = ScriptedEntropy([ephemeralInput, ratchetInput])
        try alice.store.initiateSession(with: bundle, peer: bob.id, using: &entropy)
        let before = alice.store.session(with: bob.id)!.current
        let plaintext = Array("first message without a one-time prekey".utf8)
        let message = try alice.store.encrypt(plaintext, to: bob.id, using: &entropy)
        var record = try sendRecord(
            before: before, after: alice.store.session(with: bob.id)!.current, message: message, context: [], ratchetInput: ratchetInput)
        let opened = try bob.store.decrypt(message, from: alice.id)
        #expect(opened.unprotectedBytes == plaintext)
        record["aliceEphemeralPrivate"] = ephemeralInput.hexString
        record["aliceEphemeralPublic"] = ephemeral.publicKey.bytes.hexString
        record["dh1"] = hex(dh[0])
        record["dh2"] = hex(dh[1])
        record["dh3"] = hex(dh[2])
        record["kdfInputKeyMaterial"] = ([UInt8](repeating: 0xff, count: 32) + dh.flatMap(\.unprotectedBytes)).hexString
        record["sharedSecret"] = hex(agreement.sharedSecret)
        record["plaintext"] = plaintext.hexString
        return record
    }

    /// Keys and signatures a receiver must reject (CR-0001 §4.3), each with the outcome observed here.
    static func invalidInputs(bob: Party, inputs: Inputs) throws -> [[String: Any]] {
        let p = "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"
        var local = ScriptedEntropy([inputs("invalid.localPrivate", party: "receiver", use: "the receiver's X25519 private key for the DH cases")])
        let anyKey = X25519.KeyPair.generate(using: &local)
        func x25519(_ name: String, _ encoded: String) -> [String: Any] {
            let bytes = [UInt8](hex: encoded)!
            let outcome: String
            if let key = try? X25519.PublicKey(bytes: bytes) {
                outcome = (try? anyKey.privateKey.sharedSecret(with: key)) == nil ? "DH fails" : "accepted"
            } else {
                outcome = "invalid key encoding"
            }
            return ["case": name, "type": "x25519PublicKey", "value": encoded, "outcome": outcome]
        }
        func ed25519(_ name: String, _ encoded: String) -> [String: Any] {
            let outcome = (try? IdentityKey(bytes: [UInt8](hex: encoded)!)) == nil ? "invalid identity key" : "accepted"
            return ["case": name, "type": "ed25519PublicKey", "value": encoded, "outcome": outcome]
        }
        var highBit = bob.store.preKeys.signedPreKey.publicKey.bytes
        highBit[31] |= 0x80
        // The signed-prekey signature with S replaced by S + L (RFC 8032 §5.1.7 requires S < L).
        var signature = bob.store.preKeys.signedPreKey.signature
        let order = [UInt8](hex: "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")!
        var carry = 0
        for i in 0..<32 {
            let sum = Int(signature[32 + i]) + Int(order[i]) + carry
            signature[32 + i] = UInt8(sum & 0xff)
            carry = sum >> 8
        }
        let signedPreKey = bob.store.preKeys.signedPreKey
        let signatureValid = SignedPreKey(id: signedPreKey.id, publicKey: signedPreKey.publicKey, signature: signature)
            .isSigned(by: bob.store.identity.publicKey)
        return [
            x25519("signed prekey of bob with the top bit set", highBit.hexString),
            x25519("u = p (a second encoding of 0)", p),
            x25519("u = 2^255 - 1", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
            x25519("u = 0 (low order)", String(repeating: "0", count: 64)),
            x25519("u = 1 (low order)", "01" + String(repeating: "0", count: 62)),
            x25519("a point of order 8", "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
            x25519("u = p - 1 (order 4, a point of the twist)", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
            ed25519("the neutral element", "01" + String(repeating: "0", count: 62)),
            ed25519("a point of order 8", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
            ed25519("y = p (non-canonical)", p),
            ed25519("not on the curve", "02" + String(repeating: "0", count: 62)),
            [
                "case": "bob's signed-prekey signature with S + L", "type": "signedPreKeySignature",
                "identityPublic": bob.store.identity.publicKey.bytes.hexString,
                "signedPreKeyPublic": bob.store.preKeys.signedPreKey.publicKey.bytes.hexString,
                "value": signature.hexString, "outcome": signatureValid ? "accepted" : "invalid signature",
            ],
        ]
    }

    // MARK: - CR-0002

    /// Alice seals one room message for bob, carol and dave over fresh sessions; bob
    /// opens it and answers alice with a private side-chat message.
    static func fanoutVectors(inputs: Inputs) throws -> [String: Any] {
        var parties: [String: Any] = [:]
        var alice = try party("alice", inputs: inputs, record: &parties)
        var peers: [String: Party] = [:]
        var sessions: [[String: Any]] = []
        for name in ["bob", "carol", "dave"] {
            let peer = try party(name, inputs: inputs, record: &parties)
            let ephemeral = inputs("alice.ephemeralPrivate.\(name)", party: "alice", use: "EK_A for X3DH with \(name)")
            var entropy = ScriptedEntropy([ephemeral])
            try alice.store.initiateSession(with: peer.store.preKeys.bundle(oneTimePreKeyID: 1), peer: peer.id, using: &entropy)
            sessions.append([
                "peer": name, "aliceEphemeralPrivate": ephemeral.hexString,
                "sharedSecret": hex(alice.store.session(with: peer.id)!.current.rootKey.secret),
            ])
            peers[name] = peer
        }
        let name = { (id: String) in peers.first { $0.value.id == id }!.key }
        let room = "lobby@rooms.example.org"

        // The room message.
        let plaintext = Array("Hello, room! This is catroom's fan-out vector.".utf8)
        let sortedNames = peers.values.map(\.id).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map(name)
        var scripted = [
            inputs("payloadKey", party: "alice", use: "payload key K of the room message"),
            inputs("messageID", party: "alice", use: "message id of the room message", count: 16),
        ]
        scripted += sortedNames.map { inputs("alice.ratchetPrivate.\($0)", party: "alice", use: "DHs generated for the entry to \($0)") }
        let before = Dictionary(uniqueKeysWithValues: peers.values.map { ($0.id, alice.store.session(with: $0.id)!.current) })
        let aliceBefore = alice.store
        var entropy = ScriptedEntropy(scripted)
        let message = try Fanout.seal(plaintext, kind: .room, room: room, recipients: peers.values.map(\.id), store: &alice.store, using: &entropy)
        var roomMessage = sealRecord(message, plaintext: plaintext, payloadKey: scripted[0])
        let entryDigest = message.context.entryDigest(payload: message.payload)
        roomMessage["keyEntries"] = try message.context.recipients.enumerated().map { index, id -> [String: Any] in
            var entry = try sendRecord(
                before: before[id]!, after: alice.store.session(with: id)!.current, message: message.keys[id]!,
                context: entryDigest, ratchetInput: scripted[2 + index])
            entry["recipient"] = name(id)
            return entry
        }
        // Every rejection runs before the recipient opens the genuine message, and changes nothing.
        roomMessage["rejections"] = try roomRejections(
            message, payloadKey: scripted[0], alice: aliceBefore, peers: peers, name: name, inputs: inputs)
        var opened: [[String: Any]] = []
        for recipient in sortedNames {
            let text = try Fanout.open(message.payload, context: message.context, key: message.keys[peers[recipient]!.id]!, store: &peers[recipient]!.store)
            opened.append(["recipient": recipient, "plaintext": text.hexString])
        }
        roomMessage["opened"] = opened

        // Bob answers alice privately: a kind 0x02 message whose entry is a ratchet message.
        let replyText = Array("Hi alice, only you can read this.".utf8)
        let replyInputs = [
            inputs("reply.payloadKey", party: "bob", use: "payload key K of the private reply"),
            inputs("reply.messageID", party: "bob", use: "message id of the private reply", count: 16),
            inputs("bob.ratchetPrivate.reply", party: "bob", use: "DHs generated for the entry to alice"),
        ]
        var bob = peers["bob"]!
        let bobBefore = bob.store.session(with: alice.id)!.current
        var replyEntropy = ScriptedEntropy(replyInputs)
        let reply = try Fanout.seal(replyText, kind: .privateChat, room: room, recipients: [alice.id], store: &bob.store, using: &replyEntropy)
        var privateReply = sealRecord(reply, plaintext: replyText, payloadKey: replyInputs[0])
        var entry = try sendRecord(
            before: bobBefore, after: bob.store.session(with: alice.id)!.current, message: reply.keys[alice.id]!,
            context: reply.context.entryDigest(payload: reply.payload), ratchetInput: replyInputs[2])
        entry["recipient"] = "alice"
        privateReply["keyEntry"] = entry
        // Shown in the room, the side chat is a different context.
        let asRoom = try FanoutContext(
            kind: .room, room: room, sender: reply.context.sender, messageID: reply.context.messageID,
            recipients: reply.context.recipients, commitment: reply.context.commitment)
        privateReply["rejections"] = [try rejection(
            "kindChanged", "the side chat presented as a room message (kind 0x01)", recipient: "alice",
            presented: ["kind": 1], payload: reply.payload, context: asRoom, key: reply.keys[alice.id]!, store: alice.store)]
        let replyOpened = try Fanout.open(reply.payload, context: reply.context, key: reply.keys[alice.id]!, store: &alice.store)
        privateReply["opened"] = ["recipient": "alice", "plaintext": replyOpened.hexString]

        return [
            "document": "CR-0002",
            "description": "alice seals one room message to bob, carol and dave over fresh sessions (each entry an X3DH initial message, CR-0001); bob opens it and answers alice with a private message (kind 0x02) whose entry is a ratchet message. Byte strings are lowercase hex; field names are defined in CR-0002 Appendix A.",
            "parties": parties,
            "sessions": sessions,
            "room": room,
            "roomMessage": roomMessage,
            "privateReply": privateReply,
            "randomInputsInOrder": inputs.used,
        ]
    }

    /// Inputs a recipient must reject (CR-0002 §5.4), each with the error it gives.
    static func roomRejections(
        _ message: Fanout.Message, payloadKey: [UInt8], alice: SessionStore, peers: [String: Party],
        name: (String) -> String, inputs: Inputs
    ) throws -> [[String: Any]] {
        let carol = peers["carol"]!.store
        let context = message.context
        let carolKey = message.keys[peers["carol"]!.id]!
        func flipLast(_ bytes: [UInt8]) -> [UInt8] { bytes.dropLast() + [bytes[bytes.count - 1] ^ 1] }
        func relabel(room newRoom: String? = nil, recipients: [String]? = nil) throws -> FanoutContext {
            try FanoutContext(
                kind: context.kind, room: newRoom ?? context.room, sender: context.sender, messageID: context.messageID,
                recipients: recipients ?? context.recipients, commitment: context.commitment)
        }
        var cases: [[String: Any]] = []
        let tampered = flipLast(message.payload)
        cases.append(try rejection(
            "payloadTampered", "the payload's last byte flipped", recipient: "carol",
            presented: ["payload": tampered.hexString], payload: tampered, context: context, key: carolKey, store: carol))
        let tamperedEntry = try SessionMessage(decoding: flipLast(carolKey.encoded))
        cases.append(try rejection(
            "entryTampered", "carol's key entry with its last byte flipped", recipient: "carol",
            presented: ["keyEntry": tamperedEntry.encoded.hexString], payload: message.payload, context: context, key: tamperedEntry, store: carol))
        let bobKey = message.keys[peers["bob"]!.id]!
        cases.append(try rejection(
            "entryOfAnotherRecipient", "bob's key entry presented to carol", recipient: "carol",
            presented: ["keyEntry": bobKey.encoded.hexString], payload: message.payload, context: context, key: bobKey, store: carol))
        let withoutDave = context.recipients.filter { name($0) != "dave" }
        cases.append(try rejection(
            "recipientRemoved", "dave removed from the recipient list", recipient: "carol",
            presented: ["sortedRecipients": withoutDave], payload: message.payload, context: relabel(recipients: withoutDave),
            key: carolKey, store: carol))
        let otherRoom = "other@rooms.example.org"
        cases.append(try rejection(
            "roomChanged", "the message presented in another room", recipient: "carol",
            presented: ["room": otherRoom], payload: message.payload, context: relabel(room: otherRoom), key: carolKey, store: carol))
        cases.append([
            "name": "duplicateRecipient", "description": "carol listed twice", "recipient": "carol",
            "presented": ["sortedRecipients": context.recipients + [peers["carol"]!.id]], "error": "context-invalid",
        ])
        #expect(throws: CryptoError.contextMismatch) { try relabel(recipients: context.recipients + [peers["carol"]!.id]) }

        // Bob, a recipient, learns K and seals his own text under it with the same context digest D0.
        var bob = peers["bob"]!.store
        let learned = try bob.decrypt(bobKey, from: context.sender, associatedData: context.entryDigest(payload: message.payload))
        let forgedText = Array("Forged by bob in alice's name.".utf8)
        let forged = PayloadKeys(learned).seal(forgedText, digest: context.digest)
        cases.append(try rejection(
            "recipientForgery", "bob seals his own plaintext under K and the same D0; carol is given it with alice's genuine entry",
            recipient: "carol", presented: ["payload": forged.hexString, "forgedPlaintext": forgedText.hexString],
            payload: forged, context: context, key: carolKey, store: carol))

        // Alice herself (malicious) gives carol a K' that does not match the commitment, in a valid entry.
        let carolID = peers["carol"]!.id
        var forker = alice
        let otherKey = inputs("malicious.payloadKey", party: "alice", use: "payload key K' in a malicious entry to carol")
        var forkEntropy = ScriptedEntropy([inputs("malicious.ratchetPrivate.commitment", party: "alice", use: "DHs generated for that entry")])
        let wrongKey = try forker.encrypt(SecretBytes(copying: otherKey), to: carolID, associatedData: context.entryDigest(payload: message.payload), using: &forkEntropy)
        cases.append(try rejection(
            "commitmentMismatch", "alice's valid entry to carol carries K', which does not match the commitment",
            recipient: "carol", presented: ["keyEntry": wrongKey.encoded.hexString, "entryPayloadKey": otherKey.hexString],
            payload: message.payload, context: context, key: wrongKey, store: carol))

        // Alice binds carol's entry (carrying the right K) to a payload that does not open.
        forker = alice
        let broken = flipLast(message.payload)
        var brokenEntropy = ScriptedEntropy([inputs("malicious.ratchetPrivate.payload", party: "alice", use: "DHs generated for that entry")])
        let brokenKey = try forker.encrypt(
            SecretBytes(copying: payloadKey), to: carolID, associatedData: context.entryDigest(payload: broken), using: &brokenEntropy)
        cases.append(try rejection(
            "payloadUnopenable", "alice's valid entry to carol, with the right K, binds a payload that does not open under K",
            recipient: "carol", presented: ["payload": broken.hexString, "keyEntry": brokenKey.encoded.hexString],
            payload: broken, context: context, key: brokenKey, store: carol))
        return cases
    }

    /// One rejection: opening must fail with the named error (CR-0002 §5.4) and leave the store as it was.
    static func rejection(
        _ name: String, _ description: String, recipient: String, presented: [String: Any],
        payload: [UInt8], context: FanoutContext, key: SessionMessage, store: SessionStore
    ) throws -> [String: Any] {
        var copy = store
        var error = "none"
        do {
            _ = try Fanout.open(payload, context: context, key: key, store: &copy)
        } catch let failure as CryptoError {
            error = errorName(failure)
        }
        #expect(error != "none", "\(name) was accepted")
        #expect(copy.session(with: context.sender)?.serialized == store.session(with: context.sender)?.serialized)
        return ["name": name, "description": description, "recipient": recipient, "presented": presented, "error": error]
    }

    /// CR-0002 §5.4's error names.
    static func errorName(_ error: CryptoError) -> String {
        switch error {
        case .malformed, .contextMismatch: "context-invalid"
        case .decryptionFailed, .unknownPreKey, .invalidKey, .tooFarInFuture, .identityMismatch: "entry-authentication-failed"
        case .commitmentMismatch: "commitment-mismatch"
        case .payloadInvalid: "payload-authentication-failed"
        case .duplicateMessage: "duplicate"
        case .noSession: "no-session"
        default: "\(error)"
        }
    }

    /// The shared part of a sealed message: payload keys, context, digest and payload.
    static func sealRecord(_ message: Fanout.Message, plaintext: [UInt8], payloadKey: [UInt8]) -> [String: Any] {
        let derived = HKDF.deriveKey(
            salt: [UInt8](repeating: 0, count: 32), inputKeyMaterial: payloadKey, info: Label.fanoutKeys, outputCount: 88
        ).unprotectedBytes
        return [
            "kind": Int(message.context.kind.rawValue),
            "sender": message.context.sender,
            "plaintext": plaintext.hexString,
            "payloadKey": payloadKey.hexString,
            "messageID": message.context.messageID.hexString,
            "aeadKey": Array(derived[0..<32]).hexString,
            "aeadNonce": Array(derived[32..<56]).hexString,
            "commitment": message.context.commitment.hexString,
            "sortedRecipients": message.context.recipients,
            "context": message.context.encoded.hexString,
            "contextDigest": message.context.digest.hexString,
            "payload": message.payload.hexString,
            "payloadDigest": SHA256.hash(message.payload).hexString,
            "entryDigest": message.context.entryDigest(payload: message.payload).hexString,
        ]
    }

    // MARK: - Saved session fixture

    /// A session record of format version 1, with the next message it must decrypt.
    static func sessionFixture() throws -> [String: Any] {
        let inputs = Inputs(table: nil)
        var record: [String: Any] = [:]
        var alice = try party("alice", inputs: inputs, record: &record)
        var bob = try party("bob", inputs: inputs, record: &record)
        var entropy = ScriptedEntropy([
            inputs("alice.ephemeralPrivate", party: "alice", use: ""), inputs("alice.ratchetPrivate.A1", party: "alice", use: ""),
        ])
        try alice.store.initiateSession(with: bob.store.preKeys.bundle(oneTimePreKeyID: 1), peer: bob.id, using: &entropy)
        let skipped = try alice.store.encrypt(Array("skipped".utf8), to: bob.id, using: &entropy)
        let delivered = try alice.store.encrypt(Array("delivered".utf8), to: bob.id, using: &entropy)
        _ = try bob.store.decrypt(delivered, from: alice.id)
        return [
            "description": "A session record saved in format version 1 (bob's side, one skipped key). It must keep loading: never regenerate it.",
            "bobIdentitySeed": inputs("bob.identitySeed", party: "bob", use: "").hexString,
            "alice": alice.id,
            "record": bob.store.session(with: alice.id)!.serialized.unprotectedBytes.hexString,
            "nextMessage": skipped.encoded.hexString,
            "nextPlaintext": "skipped",
        ]
    }
}
