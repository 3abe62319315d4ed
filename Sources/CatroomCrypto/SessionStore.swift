/// All pairwise sessions of one member, keyed by the peer's account id, with its prekeys.
///
/// The one place a member encrypts to and decrypts from peers. Every decryption
/// runs on copies and commits session and prekey changes together, only after the
/// message authenticated and the caller's `accept` step succeeded.
public struct SessionStore: Sendable {
    public private(set) var preKeys: PreKeyStore
    private var records: [String: SessionRecord] = [:]

    /// This member's account id, derived once.
    public let accountID: String

    public init(preKeys: PreKeyStore) {
        self.preKeys = preKeys
        accountID = preKeys.identity.publicKey.accountID
    }

    public var identity: IdentityKeyPair { preKeys.identity }

    /// Makes more one-time prekeys to publish (CR-0004 refills append, with new ids).
    public mutating func generateOneTimePreKeys(count: Int) -> [OneTimePreKey] {
        preKeys.generateOneTimePreKeys(count: count)
    }

    /// Deletes one-time prekeys the server refused to publish.
    public mutating func removeOneTimePreKeys(_ ids: some Sequence<UInt32>) {
        preKeys.removeOneTimePreKeys(ids)
    }

    public func session(with peer: String) -> SessionRecord? { records[peer] }

    /// Forgets everything about `peer` (it left the room).
    public mutating func removeSession(with peer: String) { records[peer] = nil }

    /// Puts a restored record in place (see `SessionRecord.serialized`).
    public mutating func restore(_ record: SessionRecord, for peer: String) throws {
        guard record.remoteIdentity.accountID == peer else { throw CryptoError.identityMismatch }
        records[peer] = record
    }

    // MARK: - Initiating (X3DH §3.3)

    /// Runs X3DH with `bundle` and makes the result the current session with `peer`.
    ///
    /// The bundle's identity key must be the one `peer`'s id was derived from; the
    /// prekey signature is checked before any DH.
    public mutating func initiateSession<E: EntropySource>(with bundle: PreKeyBundle, peer: String, using entropy: inout E) throws {
        try checkIdentity(bundle.identityKey, of: peer)
        let ephemeral = X25519.KeyPair.generate(using: &entropy)
        let agreement = try X3DH.initiate(identity: identity, ephemeral: ephemeral, bundle: bundle)
        let preKey = PreKeyInfo(
            identityKey: identity.publicKey, baseKey: ephemeral.publicKey,
            signedPreKeyID: bundle.signedPreKey.id, oneTimePreKeyID: bundle.oneTimePreKey?.id)
        // EK_A's private half goes out of scope here and is wiped (X3DH §3.3).
        let state = SessionState.initiator(
            agreement: agreement, remoteIdentity: bundle.identityKey,
            remoteSignedPreKey: bundle.signedPreKey.publicKey, preKey: preKey)
        makeCurrent(state, for: peer)
    }

    public mutating func initiateSession(with bundle: PreKeyBundle, peer: String) throws {
        var entropy = SystemEntropy()
        try initiateSession(with: bundle, peer: peer, using: &entropy)
    }

    // MARK: - Encrypting

    /// Encrypts `plaintext` for `peer`, binding `associatedData` (the caller's context) into the AD.
    public mutating func encrypt<E: EntropySource>(_ plaintext: some RawBytes, to peer: String, associatedData: [UInt8] = [], using entropy: inout E) throws -> SessionMessage {
        // Optional chaining mutates the record in place.
        guard let message = try records[peer]?.encrypt(plaintext, associatedData: associatedData, using: &entropy) else {
            throw CryptoError.noSession
        }
        return message
    }

    public mutating func encrypt(_ plaintext: some RawBytes, to peer: String, associatedData: [UInt8] = []) throws -> SessionMessage {
        var entropy = SystemEntropy()
        return try encrypt(plaintext, to: peer, associatedData: associatedData, using: &entropy)
    }

    // MARK: - Decrypting

    /// Decrypts a message from `peer` and hands the plaintext to `accept`; session
    /// and prekey state change only if both succeed.
    ///
    /// An X3DH initial message (X3DH §3.4) from an unknown base key creates a new
    /// session; the one-time prekey it names is deleted only then. A replay of an
    /// initial message already used is a `duplicateMessage` and creates nothing.
    public mutating func decrypt<T>(
        _ message: SessionMessage, from peer: String, associatedData: [UInt8] = [],
        accept: (SecretBytes) throws -> T
    ) throws -> T {
        let existing = records[peer]
        if let preKey = message.preKey {
            try checkIdentity(preKey.identityKey, of: peer)
            if let existing, let position = existing.position(forBaseKey: preKey.baseKey) {
                return try keep(existing.decrypting(message, associatedData: associatedData, inStateAt: position), for: peer, accept: accept)
            }
            guard !preKeys.hasSeen(baseKey: preKey.baseKey) else { throw CryptoError.duplicateMessage }
            let agreement = try preKeys.agreement(for: preKey)
            let fresh = SessionState.responder(
                agreement: agreement, remoteIdentity: preKey.identityKey,
                signedPreKey: preKeys.signedPreKeyPair, baseKey: preKey.baseKey)
            let (state, plaintext) = try fresh.decrypting(message, associatedData: associatedData)
            let result = try accept(plaintext)
            // Authenticated: commit the new session and consume the prekey.
            preKeys.commit(preKey)
            makeCurrent(state, for: peer)
            return result
        }
        guard let existing else { throw CryptoError.noSession }
        return try keep(existing.decrypting(message, associatedData: associatedData), for: peer, accept: accept)
    }

    /// Decrypts and returns the plaintext, for callers with nothing further to check.
    public mutating func decrypt(_ message: SessionMessage, from peer: String, associatedData: [UInt8] = []) throws -> SecretBytes {
        try decrypt(message, from: peer, associatedData: associatedData) { $0 }
    }

    /// Hands a decryption's plaintext to `accept` and keeps its updated record only if that succeeds.
    private mutating func keep<T>(
        _ decrypted: (SessionRecord, SecretBytes), for peer: String, accept: (SecretBytes) throws -> T
    ) throws -> T {
        let (updated, plaintext) = decrypted
        let result = try accept(plaintext)
        records[peer] = updated
        return result
    }

    // MARK: - Helpers

    /// A session with `peer` must use the identity key `peer`'s id was derived from, never
    /// our own, and the one any session already held with `peer` uses.
    private func checkIdentity(_ identityKey: IdentityKey, of peer: String) throws {
        guard identityKey.accountID == peer, peer != accountID else { throw CryptoError.identityMismatch }
        if let existing = records[peer], existing.remoteIdentity != identityKey { throw CryptoError.identityMismatch }
    }

    /// Makes `state` the current session with `peer`, archiving any current one.
    private mutating func makeCurrent(_ state: SessionState, for peer: String) {
        if records[peer] != nil {
            records[peer]?.promote(state)
        } else {
            records[peer] = SessionRecord(state)
        }
    }
}
