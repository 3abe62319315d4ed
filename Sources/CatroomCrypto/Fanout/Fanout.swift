/// Room fan-out (CR-0002): a payload sealed once under a fresh key, and that key
/// sent to each recipient through its pairwise Double Ratchet session.
///
/// From the payload key K: HKDF(salt = 32 zero bytes, IKM = K, info = "catroom-fanout-v2"),
/// 88 bytes = AEAD key (32) || nonce (24) || commitment (32). The commitment sits in
/// the context, so two recipients who accept one message hold the same K and
/// therefore the same plaintext (no "invisible salamanders", SECURITY-CASES PC-19).
///
/// The payload is sealed under the context digest D0; every key entry is sealed
/// under the entry digest D = SHA-256(label || D0 || SHA-256(payload)) (CR-0002 §5.1).
/// A recipient learns K, so K alone cannot vouch for the payload: the sender's
/// entry does, which no other recipient can make.
public enum Fanout {
    public static let payloadKeyCount = 32

    /// What the sender produces: the shared part and one key entry per recipient.
    public struct Message: Sendable {
        public let context: FanoutContext
        /// XChaCha20-Poly1305 ciphertext of the payload, AD = D0.
        public let payload: [UInt8]
        /// Each recipient's key entry: K encrypted through its pairwise session, AD = D.
        public let keys: [String: SessionMessage]
        /// D, which names this message exactly (CR-0002 §5.4 step 6).
        public let entryDigest: [UInt8]

        /// `recipient`'s key entry; `noSession` when the message was not sealed for it.
        public func entry(for recipient: String) throws -> SessionMessage {
            guard let entry = keys[recipient] else { throw CryptoError.noSession }
            return entry
        }
    }

    /// Seals `plaintext` for `recipients`, each of whom must have a session in `store`.
    public static func seal<E: EntropySource>(
        _ plaintext: some RawBytes, kind: FanoutContext.Kind, room: String, recipients: [String],
        store: inout SessionStore, using entropy: inout E
    ) throws -> Message {
        for recipient in recipients where store.session(with: recipient) == nil { throw CryptoError.noSession }
        let payloadKey = entropy.secret(count: payloadKeyCount)
        let messageID = entropy.bytes(count: FanoutContext.messageIDCount)
        let derived = PayloadKeys(payloadKey)
        let context = try FanoutContext(
            kind: kind, room: room, sender: store.accountID, messageID: messageID,
            recipients: recipients, commitment: derived.commitment)
        let payload = derived.seal(plaintext, digest: context.digest)
        let entryDigest = context.entryDigest(payload: payload)
        var keys: [String: SessionMessage] = [:]
        keys.reserveCapacity(context.recipients.count)
        for recipient in context.recipients {
            keys[recipient] = try store.encrypt(payloadKey, to: recipient, associatedData: entryDigest, using: &entropy)
        }
        return Message(context: context, payload: payload, keys: keys, entryDigest: entryDigest)
    }

    public static func seal(
        _ plaintext: some RawBytes, kind: FanoutContext.Kind, room: String, recipients: [String], store: inout SessionStore
    ) throws -> Message {
        var entropy = SystemEntropy()
        return try seal(plaintext, kind: kind, room: room, recipients: recipients, store: &store, using: &entropy)
    }

    /// Opens a fan-out message addressed to `store`'s owner, with the context rebuilt
    /// from where and how it arrived (CR-0002 §5.4, checks in that order). The owner
    /// must be a recipient. The key entry is decrypted through the sender's session;
    /// the session advances only if the entry, the commitment and the payload all
    /// check out.
    public static func open(
        _ payload: [UInt8], context: FanoutContext, key: SessionMessage, store: inout SessionStore
    ) throws -> [UInt8] {
        guard context.recipients.contains(store.accountID) else { throw CryptoError.contextMismatch }
        let entryDigest = context.entryDigest(payload: payload)
        return try store.decrypt(key, from: context.sender, associatedData: entryDigest) { payloadKey in
            guard payloadKey.count == payloadKeyCount else { throw CryptoError.commitmentMismatch }
            let derived = PayloadKeys(payloadKey)
            guard constantTimeEqual(derived.commitment, context.commitment) else { throw CryptoError.commitmentMismatch }
            do {
                return try derived.open(payload, digest: context.digest)
            } catch {
                throw CryptoError.payloadInvalid
            }
        }
    }
}

/// The AEAD key, nonce and commitment derived from one payload key.
struct PayloadKeys {
    private let material: SecretBytes

    init(_ payloadKey: SecretBytes) {
        material = HKDF.deriveKey(salt: EmptySalt.zeros, inputKeyMaterial: payloadKey, info: Label.fanoutKeys, outputCount: 88)
    }

    var commitment: [UInt8] { material.withUnsafeBytes { Array($0[56..<88]) } }

    func seal(_ plaintext: some RawBytes, digest: [UInt8]) -> [UInt8] {
        XChaCha20Poly1305.withKeyAndNonce(in: material) { key, nonce in
            XChaCha20Poly1305.seal(plaintext, key: key, nonce: nonce, associatedData: digest)
        }
    }

    func open(_ ciphertext: [UInt8], digest: [UInt8]) throws -> [UInt8] {
        try XChaCha20Poly1305.withKeyAndNonce(in: material) { key, nonce in
            try XChaCha20Poly1305.open(ciphertext, key: key, nonce: nonce, associatedData: digest)
        }
    }
}
