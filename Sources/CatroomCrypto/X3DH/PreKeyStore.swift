/// The responder's private prekeys (X3DH §2.3, §3.4) and its memory of base keys already used.
public struct PreKeyStore: Sendable {
    public let identity: IdentityKeyPair
    let signedPreKeyPair: X25519.KeyPair
    /// The published half of the signed prekey.
    public let signedPreKey: SignedPreKey
    private(set) var oneTimePreKeyPairs: [UInt32: X25519.KeyPair] = [:]
    private var nextOneTimePreKeyID: UInt32 = 1
    private var seenBaseKeys = Set<X25519.PublicKey>()
    private var seenBaseKeyOrder = FIFOQueue<X25519.PublicKey>()

    /// Creates the signed prekey, signed by `identity`.
    public init<E: EntropySource>(identity: IdentityKeyPair, signedPreKeyID: UInt32 = 1, using entropy: inout E) {
        self.identity = identity
        signedPreKeyPair = .generate(using: &entropy)
        signedPreKey = SignedPreKey(
            id: signedPreKeyID, publicKey: signedPreKeyPair.publicKey,
            signature: identity.signature(context: Label.signedPreKey, message: signedPreKeyPair.publicKey.bytes))
    }

    public init(identity: IdentityKeyPair) {
        var entropy = SystemEntropy()
        self.init(identity: identity, using: &entropy)
    }

    /// Makes `count` new one-time prekeys (ids counting up from 1) and returns their public halves to publish.
    ///
    /// Beyond `Limits.maxOneTimePreKeys` unused ones, the oldest (lowest ids) are
    /// deleted, so a server or peer that drains prekeys without using them cannot
    /// grow this store. Dropping a key pair wipes its private half (`SecretBytes`).
    public mutating func generateOneTimePreKeys<E: EntropySource>(count: Int, using entropy: inout E) -> [OneTimePreKey] {
        let generated = (0..<count).map { _ in
            let pair = X25519.KeyPair.generate(using: &entropy)
            // Ids never repeat: a client would need 2^32 prekeys to wrap.
            let id = nextOneTimePreKeyID
            nextOneTimePreKeyID &+= 1
            oneTimePreKeyPairs[id] = pair
            return OneTimePreKey(id: id, publicKey: pair.publicKey)
        }
        if oneTimePreKeyPairs.count > Limits.maxOneTimePreKeys {
            for id in oneTimePreKeyPairs.keys.sorted().dropLast(Limits.maxOneTimePreKeys) {
                oneTimePreKeyPairs[id] = nil
            }
        }
        return generated
    }

    public mutating func generateOneTimePreKeys(count: Int) -> [OneTimePreKey] {
        var entropy = SystemEntropy()
        return generateOneTimePreKeys(count: count, using: &entropy)
    }

    /// Deletes one-time prekeys that were never published (the server refused them).
    public mutating func removeOneTimePreKeys(_ ids: some Sequence<UInt32>) {
        for id in ids { oneTimePreKeyPairs[id] = nil }
    }

    /// One-time prekeys still unused.
    public var oneTimePreKeyCount: Int { oneTimePreKeyPairs.count }

    /// The bundle a server would hand out, using the given one-time prekey if any.
    public func bundle(oneTimePreKeyID: UInt32? = nil) -> PreKeyBundle {
        let oneTime = oneTimePreKeyID.flatMap { id in
            oneTimePreKeyPairs[id].map { OneTimePreKey(id: id, publicKey: $0.publicKey) }
        }
        return PreKeyBundle(identityKey: identity.publicKey, signedPreKey: signedPreKey, oneTimePreKey: oneTime)
    }

    // MARK: - Responder side (used by SessionStore)

    /// X3DH §3.4: Bob recomputes SK from Alice's initial message without changing any state.
    func agreement(for initial: PreKeyInfo) throws -> X3DH.Agreement {
        guard initial.signedPreKeyID == signedPreKey.id else { throw CryptoError.unknownPreKey }
        var oneTime: X25519.PrivateKey?
        if let id = initial.oneTimePreKeyID {
            guard let pair = oneTimePreKeyPairs[id] else { throw CryptoError.unknownPreKey }
            oneTime = pair.privateKey
        }
        return try X3DH.respond(
            identity: identity, signedPreKey: signedPreKeyPair.privateKey, oneTimePreKey: oneTime,
            initiatorIdentity: initial.identityKey, baseKey: initial.baseKey)
    }

    func hasSeen(baseKey: X25519.PublicKey) -> Bool { seenBaseKeys.contains(baseKey) }

    /// X3DH §3.4: "Bob then deletes any one-time prekey private key that was used",
    /// once the initial message has authenticated.
    mutating func commit(_ initial: PreKeyInfo) {
        if let id = initial.oneTimePreKeyID {
            oneTimePreKeyPairs[id] = nil
        }
        if seenBaseKeys.insert(initial.baseKey).inserted {
            seenBaseKeyOrder.append(initial.baseKey)
        }
        if seenBaseKeyOrder.count > Limits.maxSeenBaseKeys {
            seenBaseKeys.remove(seenBaseKeyOrder.removeFirst())
        }
    }
}
