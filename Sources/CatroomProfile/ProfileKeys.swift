import CatroomCrypto

/// The key hierarchy (docs/profile-format.md §2): passphrase → Argon2id → key-encryption
/// key, which unwraps a random master key; the master key's subkeys seal the rows and
/// blind the contacts' handles. Changing the passphrase rewraps the master key only.
struct ProfileKeys {
    /// Seals and opens every row but the key record (`crypto_kdf` context "profrows", id 1).
    let rowKey: SecretBytes
    /// Keys the BLAKE2b that turns an identity key into a contact's handle ("profhand", id 1).
    let handleKey: SecretBytes
    /// Keys the BLAKE2b that turns a conversation into a history row's handle ("profconv", id 1):
    /// apart from `handleKey`, so a peer's history cannot be linked to its contact row.
    let conversationKey: SecretBytes

    init(masterKey: SecretBytes) {
        rowKey = SubkeyDerivation.subkey(count: 32, id: 1, context: "profrows", masterKey: masterKey)
        handleKey = SubkeyDerivation.subkey(count: 32, id: 1, context: "profhand", masterKey: masterKey)
        conversationKey = SubkeyDerivation.subkey(count: 32, id: 1, context: "profconv", masterKey: masterKey)
    }

    /// A contact's row key: the file does not show whom it holds (§3.3).
    func handle(of identity: IdentityKey) -> [UInt8] {
        KeyedHash.hash(identity.bytes, key: handleKey)
    }

    /// A history row's handle: the file does not name the room or the peer (§3.5).
    func handle(of conversation: Conversation) -> [UInt8] {
        KeyedHash.hash(conversation.handleInput, key: conversationKey)
    }
}

/// The key record: what the passphrase unlocks (docs/profile-format.md §3.1).
struct KeyRecord {
    static let masterKeyCount = SubkeyDerivation.masterKeyCount

    let salt: [UInt8]
    let limits: Argon2id.Limits
    /// nonce || XChaCha20-Poly1305(master key) under the key-encryption key.
    let box: [UInt8]

    /// Wraps `masterKey` under a key derived from `passphrase` with a fresh salt.
    init(wrapping masterKey: SecretBytes, passphrase: SecretBytes, limits: Argon2id.Limits) throws {
        try self.init(wrapping: masterKey, passphrase: passphrase, limits: limits, salt: randomBytes(count: Argon2id.saltCount),
                      nonce: randomBytes(count: XChaCha20Poly1305.nonceCount))
    }

    /// With a given salt and nonce: for the test vector.
    init(wrapping masterKey: SecretBytes, passphrase: SecretBytes, limits: Argon2id.Limits, salt: [UInt8], nonce: [UInt8]) throws {
        self.salt = salt
        self.limits = limits
        let kek = try Argon2id.deriveKey(count: XChaCha20Poly1305.keyCount, passphrase: passphrase, salt: salt, limits: limits)
        box = SealedRow.seal(masterKey, key: kek, nonce: nonce, associatedData: SealedRow.associatedData(place: "keyring", key: Self.binding(salt, limits)))
    }

    init(salt: [UInt8], limits: Argon2id.Limits, box: [UInt8]) {
        self.salt = salt
        self.limits = limits
        self.box = box
    }

    /// The master key, or nil if the passphrase is wrong (or the record damaged): the box
    /// did not authenticate. Limits beyond `Argon2id.Limits.maximum` are refused unread.
    func unwrap(passphrase: SecretBytes) throws -> SecretBytes? {
        guard salt.count == Argon2id.saltCount, limits.isAcceptable else { return nil }
        let kek = try Argon2id.deriveKey(count: XChaCha20Poly1305.keyCount, passphrase: passphrase, salt: salt, limits: limits)
        let ad = SealedRow.associatedData(place: "keyring", key: Self.binding(salt, limits))
        guard let master = try? SealedRow.openSecret(box, key: kek, associatedData: ad), master.count == Self.masterKeyCount else { return nil }
        return master
    }

    /// The key record's row key: salt || opslimit || memlimit (big-endian u64), so that
    /// the limits cannot be changed without the box failing.
    static func binding(_ salt: [UInt8], _ limits: Argon2id.Limits) -> [UInt8] {
        salt + SealedRow.bigEndian(limits.operations) + SealedRow.bigEndian(limits.memoryBytes)
    }
}
