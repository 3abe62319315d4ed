@testable import CatroomCrypto
import Foundation
import Testing

/// Builds the test vectors of CR-0001 (sessions) and CR-0002 (fan-out) from their inputs.
///
/// The committed files `xep/CR-000N-vectors.json` are the source of truth: the
/// tests read the inputs from them, run the implementation, and require every
/// intermediate and output value to match. `CATROOM_WRITE_VECTORS=1 swift test
/// --filter ProtocolVectorTests` rewrites them from the default inputs.
enum ProtocolVectors {
    /// A named 32-byte input: SHA-256 of "catroom vectors <name>".
    static func defaultInput(_ name: String) -> [UInt8] { SHA256.hash(Array("catroom vectors \(name)".utf8)) }

    /// Reads named inputs from a vector file, or makes the defaults.
    struct Inputs {
        let table: [String: [UInt8]]?
        func callAsFunction(_ name: String) -> [UInt8] {
            guard let table else { return ProtocolVectors.defaultInput(name) }
            guard let value = table[name] else {
                Issue.record("input \(name) is missing from the vector file")
                return []
            }
            return value
        }
    }

    // MARK: - Participants

    struct Party {
        var store: SessionStore
        let name: String
        var id: String { store.accountID }
    }

    /// A party whose identity seed, signed prekey and one one-time prekey come from `inputs`.
    static func party(_ name: String, inputs: Inputs, record: inout [String: Any]) throws -> Party {
        let seed = inputs("\(name).identitySeed")
        let identity = try IdentityKeyPair(seed: SecretBytes(copying: seed))
        var entropy = ScriptedEntropy([inputs("\(name).signedPreKeyPrivate"), inputs("\(name).oneTimePreKeyPrivate")])
        var preKeys = PreKeyStore(identity: identity, signedPreKeyID: 1, using: &entropy)
        let oneTime = preKeys.generateOneTimePreKeys(count: 1, using: &entropy)[0]
        record["\(name).identitySeed"] = seed.hexString
        record["\(name).identityPublic"] = identity.publicKey.bytes.hexString
        record["\(name).identityX25519Private"] = identity.agreementKey.secret.unprotectedBytes.hexString
        record["\(name).identityX25519Public"] = identity.publicKey.agreementKey.bytes.hexString
        record["\(name).accountID"] = identity.publicKey.accountID
        record["\(name).signedPreKeyId"] = Int(preKeys.signedPreKey.id)
        record["\(name).signedPreKeyPrivate"] = inputs("\(name).signedPreKeyPrivate").hexString
        record["\(name).signedPreKeyPublic"] = preKeys.signedPreKey.publicKey.bytes.hexString
        record["\(name).signedPreKeySignature"] = preKeys.signedPreKey.signature.hexString
        record["\(name).oneTimePreKeyId"] = Int(oneTime.id)
        record["\(name).oneTimePreKeyPrivate"] = inputs("\(name).oneTimePreKeyPrivate").hexString
        record["\(name).oneTimePreKeyPublic"] = oneTime.publicKey.bytes.hexString
        return Party(store: SessionStore(preKeys: preKeys), name: name)
    }

    // MARK: - CR-0001

    /// The X3DH run, then a scripted conversation with DH steps and out-of-order delivery.
    static func sessionVectors(inputs: Inputs) throws -> [String: Any] {
        var parties: [String: Any] = [:]
        var alice = try party("alice", inputs: inputs, record: &parties)
        var bob = try party("bob", inputs: inputs, record: &parties)
        let bundle = bob.store.preKeys.bundle(oneTimePreKeyID: 1)

        // X3DH §3.3, recomputed step by step beside SessionStore's own run.
        let ephemeral = X25519.KeyPair(privateKey: try .init(secret: SecretBytes(copying: inputs("alice.ephemeralPrivate"))))
        let aliceX = alice.store.identity.agreementKey
        let dh = try [
            aliceX.sharedSecret(with: bundle.signedPreKey.publicKey),
            ephemeral.privateKey.sharedSecret(with: bundle.identityKey.agreementKey),
            ephemeral.privateKey.sharedSecret(with: bundle.signedPreKey.publicKey),
            ephemeral.privateKey.sharedSecret(with: bundle.oneTimePreKey!.publicKey),
        ]
        let agreement = try X3DH.initiate(identity: alice.store.identity, ephemeral: ephemeral, bundle: bundle)
        let x3dh: [String: Any] = [
            "aliceEphemeralPrivate": inputs("alice.ephemeralPrivate").hexString,
            "aliceEphemeralPublic": ephemeral.publicKey.bytes.hexString,
            "dh1": dh[0].unprotectedBytes.hexString, "dh2": dh[1].unprotectedBytes.hexString,
            "dh3": dh[2].unprotectedBytes.hexString, "dh4": dh[3].unprotectedBytes.hexString,
            "kdfInputKeyMaterial": ([UInt8](repeating: 0xff, count: 32) + dh.flatMap(\.unprotectedBytes)).hexString,
            "sharedSecret": agreement.sharedSecret.unprotectedBytes.hexString,
            "associatedData": agreement.associatedData.hexString,
        ]
        var entropy = ScriptedEntropy([inputs("alice.ephemeralPrivate")])
        try alice.store.initiateSession(with: bundle, peer: bob.id, using: &entropy)

        // The conversation: (actor, action). "send" names the message; "receive" delivers one by name.
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
        var ratchetKeyCount = 0
        for (actor, action, name) in script {
            let peer = actor == "alice" ? bob : alice
            var me = actor == "alice" ? alice : bob
            let before = me.store.session(with: peer.id)?.current
            var step: [String: Any] = ["actor": actor, "action": action, "message": name]
            if action == "send" {
                let plaintext = "message \(name) from \(actor)"
                let needsRatchetKey = before!.sendingChain == nil
                let ratchetInput = needsRatchetKey ? inputs("\(actor).ratchetPrivate\(ratchetKeyCount)") : []
                var entropy = ScriptedEntropy(needsRatchetKey ? [ratchetInput] : [])
                let message = try me.store.encrypt(Array(plaintext.utf8), to: peer.id, using: &entropy)
                let after = me.store.session(with: peer.id)!.current
                var chainKey = before!.sendingChain
                if chainKey == nil {
                    // The deferred sending half of a DH ratchet step (CR-0001 §5.4).
                    let dhOutput = try after.sendingRatchetKey!.privateKey.sharedSecret(with: before!.receivingRatchetKey!)
                    let (root, chain) = before!.rootKey.ratchet(with: dhOutput)
                    #expect(root.secret == after.rootKey.secret)
                    chainKey = chain
                    step["dhStep"] = [
                        "ratchetPrivate": ratchetInput.hexString,
                        "ratchetPublic": after.sendingRatchetKey!.publicKey.bytes.hexString,
                        "remoteRatchetPublic": before!.receivingRatchetKey!.bytes.hexString,
                        "dhOutput": dhOutput.unprotectedBytes.hexString,
                        "rootKeyBefore": before!.rootKey.secret.unprotectedBytes.hexString,
                        "rootKeyAfter": root.secret.unprotectedBytes.hexString,
                        "chainKey": chain.secret.unprotectedBytes.hexString,
                    ]
                    ratchetKeyCount += 1
                }
                let (messageKey, next) = chainKey!.step()
                #expect(next.secret == after.sendingChain!.secret)
                let aead = messageKey.aeadKeyAndNonce().unprotectedBytes
                step["plaintext"] = Array(plaintext.utf8).hexString
                step["chainKey"] = chainKey!.secret.unprotectedBytes.hexString
                step["messageKey"] = messageKey.secret.unprotectedBytes.hexString
                step["nextChainKey"] = next.secret.unprotectedBytes.hexString
                step["aeadKey"] = Array(aead[0..<32]).hexString
                step["aeadNonce"] = Array(aead[32..<56]).hexString
                step["header"] = message.authenticatedPrefix.hexString
                step["associatedData"] = (after.associatedData + message.authenticatedPrefix).hexString
                step["encoded"] = message.encoded.hexString
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
                        "dhOutput": dhOutput.unprotectedBytes.hexString,
                        "rootKeyBefore": rootBefore.secret.unprotectedBytes.hexString,
                        "rootKeyAfter": root.secret.unprotectedBytes.hexString,
                        "chainKey": chain.secret.unprotectedBytes.hexString,
                    ]
                }
                step["skippedKeysStored"] = after.skipped.count
            }
            if actor == "alice" { alice = me } else { bob = me }
            steps.append(step)
        }
        return [
            "document": "CR-0001",
            "description": "X3DH between alice and bob with a one-time prekey, then a Double Ratchet conversation with DH steps and out-of-order delivery. All byte strings are lowercase hex.",
            "parties": parties,
            "x3dh": x3dh,
            "conversation": steps,
        ]
    }

    // MARK: - CR-0002

    /// Alice seals one room message for bob, carol and dave over fresh sessions.
    static func fanoutVectors(inputs: Inputs) throws -> [String: Any] {
        var parties: [String: Any] = [:]
        var alice = try party("alice", inputs: inputs, record: &parties)
        var sessions: [[String: Any]] = []
        for name in ["bob", "carol", "dave"] {
            let peer = try party(name, inputs: inputs, record: &parties)
            var entropy = ScriptedEntropy([inputs("alice.ephemeralPrivate.\(name)")])
            try alice.store.initiateSession(with: peer.store.preKeys.bundle(oneTimePreKeyID: 1), peer: peer.id, using: &entropy)
            sessions.append([
                "peer": name,
                "aliceEphemeralPrivate": inputs("alice.ephemeralPrivate.\(name)").hexString,
                "rootKey": alice.store.session(with: peer.id)!.current.rootKey.secret.unprotectedBytes.hexString,
            ])
        }
        let recipients = try ["bob", "carol", "dave"].map { try #require(parties["\($0).accountID"] as? String) }
        let sortedNames = ["bob", "carol", "dave"].sorted {
            (parties["\($0).accountID"] as! String).utf8.lexicographicallyPrecedes((parties["\($1).accountID"] as! String).utf8)
        }
        let plaintext = Array("Hello, room! This is catroom's fan-out vector.".utf8)
        let room = "lobby@rooms.example.org"
        var scripted = [inputs("payloadKey"), Array(inputs("messageID").prefix(16))]
        scripted += sortedNames.map { inputs("alice.ratchetPrivate.\($0)") }
        var entropy = ScriptedEntropy(scripted)
        let message = try Fanout.seal(plaintext, kind: .room, room: room, recipients: recipients, store: &alice.store, using: &entropy)
        let derived = HKDF.deriveKey(
            salt: [UInt8](repeating: 0, count: 32), inputKeyMaterial: inputs("payloadKey"), info: Label.fanoutKeys, outputCount: 88
        ).unprotectedBytes
        return [
            "document": "CR-0002",
            "description": "alice seals one room message to bob, carol and dave; each session is fresh, so each key entry is an X3DH initial message (CR-0001). All byte strings are lowercase hex.",
            "parties": parties,
            "sessions": sessions,
            "room": room,
            "kind": Int(FanoutContext.Kind.room.rawValue),
            "plaintext": plaintext.hexString,
            "payloadKey": inputs("payloadKey").hexString,
            "messageID": message.context.messageID.hexString,
            "ratchetPrivateKeys": sortedNames.map { ["peer": $0, "private": inputs("alice.ratchetPrivate.\($0)").hexString] },
            "aeadKey": Array(derived[0..<32]).hexString,
            "aeadNonce": Array(derived[32..<56]).hexString,
            "commitment": message.context.commitment.hexString,
            "sortedRecipients": message.context.recipients,
            "context": message.context.encoded.hexString,
            "digest": message.context.digest.hexString,
            "payload": message.payload.hexString,
            "keyEntries": message.context.recipients.map { ["recipient": $0, "encoded": message.keys[$0]!.encoded.hexString] },
        ]
    }

    // MARK: - Saved session fixture

    /// A session record of format version 1, with the next message it must decrypt.
    static func sessionFixture() throws -> [String: Any] {
        let inputs = Inputs(table: nil)
        var record: [String: Any] = [:]
        var alice = try party("alice", inputs: inputs, record: &record)
        var bob = try party("bob", inputs: inputs, record: &record)
        var entropy = ScriptedEntropy([inputs("alice.ephemeralPrivate"), inputs("alice.ratchetPrivate0")])
        try alice.store.initiateSession(with: bob.store.preKeys.bundle(oneTimePreKeyID: 1), peer: bob.id, using: &entropy)
        let skipped = try alice.store.encrypt(Array("skipped".utf8), to: bob.id, using: &entropy)
        let delivered = try alice.store.encrypt(Array("delivered".utf8), to: bob.id, using: &entropy)
        _ = try bob.store.decrypt(delivered, from: alice.id)
        _ = skipped
        return [
            "description": "A session record saved in format version 1 (bob's side, one skipped key). It must keep loading: never regenerate it.",
            "bobIdentitySeed": inputs("bob.identitySeed").hexString,
            "alice": alice.id,
            "record": bob.store.session(with: alice.id)!.serialized.unprotectedBytes.hexString,
            "nextMessage": skipped.encoded.hexString,
            "nextPlaintext": "skipped",
        ]
    }
}
