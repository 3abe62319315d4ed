import CatroomCrypto

/// What fan-out v2's entry digest costs (CR-0002 0.2 §5.1): every key entry is bound to
/// D = SHA-256("catroom-entry-v2" || D0 || SHA-256(payload)) instead of D0 itself, so
/// sealing and opening each hash the payload once more. Measured beside the 0.1 binding,
/// rebuilt from public pieces, call by call in alternation.
extension CryptoBenchmark {
    static let entryDigestPayloads = [64, 1024, 16 * 1024]
    static let entryDigestRecipients = 200

    func entryDigest(payload size: Int) throws -> [Row] {
        var sender = Self.store()
        var members = (0..<Self.entryDigestRecipients).map { _ in Self.store() }
        for i in members.indices { try Self.establish(&sender, &members[i]) }
        let ids = members.map(\.accountID)
        let payload = [UInt8](repeating: 0x62, count: size)
        let room = "bench@rooms.localhost"
        let n = count(300)
        let label = size >= 1024 ? "\(size / 1024) KiB" : "\(size) B"

        // Opening first: member 0 reads every message sealed so far, so no skip grows past MAX_SKIP.
        let (open, openBaseline) = try Measurement.alternating(count: n, { calls in
            try Measurement.run(count: calls, warmup: 1, prepare: {
                try Fanout.seal(payload, kind: .room, room: room, recipients: ids, store: &sender)
            }) { message in
                _ = try Fanout.open(message.payload, context: message.context, key: try message.entry(for: ids[0]), store: &members[0])
            }
        }, { calls in
            try Measurement.run(count: calls, warmup: 1, prepare: {
                try BaselineFanout.seal(payload, room: room, recipients: ids, store: &sender)
            }) { message in
                _ = try BaselineFanout.open(message, key: try message.entry(for: ids[0]), store: &members[0])
            }
        })
        let (seal, sealBaseline) = try Measurement.alternating(count: n, { calls in
            try Measurement.run(count: calls, warmup: 1) {
                _ = try Fanout.seal(payload, kind: .room, room: room, recipients: ids, store: &sender)
            }
        }, { calls in
            try Measurement.run(count: calls, warmup: 1) {
                _ = try BaselineFanout.seal(payload, room: room, recipients: ids, store: &sender)
            }
        })
        let message = try Fanout.seal(payload, kind: .room, room: room, recipients: ids, store: &sender)
        let digest = Measurement.run(count: count(2000)) { _ = message.context.entryDigest(payload: message.payload) }

        // Floors: the v2 floor is the baseline's plus SHA-256(payload) and the 80-byte hash of D.
        var floor = PrimitiveFloor()
        let contextBytes = 64 + room.utf8.count + ids.count * 33
        let entryAD = 64 + 42 + 32
        func sealFloor(_ floor: inout PrimitiveFloor) {
            floor.random(48)
            Self.payloadKeyFloor(&floor)
            floor.sha256(length: contextBytes)
            floor.seal(plaintext: size, associatedData: 32)
            for _ in ids {
                Self.messageKeyFloor(&floor)
                floor.seal(plaintext: 32, associatedData: entryAD)
            }
        }
        func openFloor(_ floor: inout PrimitiveFloor) {
            floor.sha256(length: contextBytes)
            Self.messageKeyFloor(&floor)
            floor.open(plaintext: 32, associatedData: entryAD)
            Self.payloadKeyFloor(&floor)
            floor.open(plaintext: size, associatedData: 32)
        }
        func digestFloor(_ floor: inout PrimitiveFloor) {
            floor.sha256(length: size)
            floor.sha256(length: Label.fanoutEntry.count + 64)
        }
        let sealV2Floor = Measurement.run(count: n) { sealFloor(&floor); digestFloor(&floor) }
        let sealBaselineFloor = Measurement.run(count: n) { sealFloor(&floor) }
        let openV2Floor = Measurement.run(count: n) { openFloor(&floor); digestFloor(&floor) }
        let openBaselineFloor = Measurement.run(count: n) { openFloor(&floor) }
        let digestOnlyFloor = Measurement.run(count: count(2000)) {
            floor.sha256(length: contextBytes)
            digestFloor(&floor)
        }

        let recipients = Self.entryDigestRecipients
        let sealing = "random + HKDF (4 HMAC) + SHA-256 + AEAD + \(recipients) x (5 HMAC + AEAD)"
        let opening = "SHA-256 + 5 HMAC + AEAD + HKDF (4 HMAC) + AEAD"
        let hashes = " + SHA-256(payload) + SHA-256(80 B)"
        return [
            Self.row("fan-out seal \(recipients), \(label), v2", seal, sealV2Floor, floor: sealing + hashes,
                     ratioTarget: nil, maximumMicroseconds: 2000),
            Self.row("fan-out seal \(recipients), \(label), 0.1", sealBaseline, sealBaselineFloor, floor: sealing, ratioTarget: nil),
            Self.row("fan-out open 1 of \(recipients), \(label), v2", open, openV2Floor, floor: opening + hashes, ratioTarget: nil),
            Self.row("fan-out open 1 of \(recipients), \(label), 0.1", openBaseline, openBaselineFloor, floor: opening, ratioTarget: nil),
            Self.row("entry digest D, \(label)", digest, digestOnlyFloor,
                     floor: "SHA-256(context) + SHA-256(payload) + SHA-256(80 B)", ratioTarget: nil),
        ]
    }
}

/// Fan-out as CR-0002 0.1 bound it, for comparison only: each key entry is sealed under
/// the context digest D0 itself, so nothing hashes the payload for the entries.
enum BaselineFanout {
    struct Message {
        let context: FanoutContext
        let payload: [UInt8]
        let keys: [String: SessionMessage]

        func entry(for recipient: String) throws -> SessionMessage {
            guard let entry = keys[recipient] else { throw CryptoError.noSession }
            return entry
        }
    }

    /// AEAD key (32) || nonce (24) || commitment (32) from the payload key, as in Fanout.
    private static func keys(_ payloadKey: SecretBytes) -> SecretBytes {
        HKDF.deriveKey(salt: [UInt8](), inputKeyMaterial: payloadKey, info: Label.fanoutKeys, outputCount: 88)
    }

    static func seal(_ plaintext: [UInt8], room: String, recipients: [String], store: inout SessionStore) throws -> Message {
        var entropy = SystemEntropy()
        let payloadKey = SecretBytes(count: Fanout.payloadKeyCount) { entropy.fill($0) }
        let material = keys(payloadKey)
        let context = try FanoutContext(
            kind: .room, room: room, sender: store.accountID, messageID: randomBytes(count: FanoutContext.messageIDCount),
            recipients: recipients, commitment: material.slice(56..<88).unprotectedBytes)
        let digest = context.digest
        let payload = material.withUnsafeBytes { m in
            XChaCha20Poly1305.seal(
                plaintext, key: UnsafeRawBufferPointer(rebasing: m[0..<32]), nonce: UnsafeRawBufferPointer(rebasing: m[32..<56]),
                associatedData: digest)
        }
        var entries: [String: SessionMessage] = [:]
        for recipient in context.recipients {
            entries[recipient] = try store.encrypt(payloadKey, to: recipient, associatedData: digest, using: &entropy)
        }
        return Message(context: context, payload: payload, keys: entries)
    }

    static func open(_ message: Message, key: SessionMessage, store: inout SessionStore) throws -> [UInt8] {
        let digest = message.context.digest
        return try store.decrypt(key, from: message.context.sender, associatedData: digest) { payloadKey in
            let material = keys(payloadKey)
            guard constantTimeEqual(material.slice(56..<88), message.context.commitment) else { throw CryptoError.commitmentMismatch }
            return try material.withUnsafeBytes { m in
                try XChaCha20Poly1305.open(
                    message.payload, key: UnsafeRawBufferPointer(rebasing: m[0..<32]),
                    nonce: UnsafeRawBufferPointer(rebasing: m[32..<56]), associatedData: digest)
            }
        }
    }
}
