/// A signed prekey as published (X3DH §2.3): id, SPK_B and Sig(IK_B, "catroom-spk-v1" || SPK_B).
public struct SignedPreKey: Hashable, Sendable {
    public let id: UInt32
    public let publicKey: X25519.PublicKey
    public let signature: [UInt8]

    public init(id: UInt32, publicKey: X25519.PublicKey, signature: [UInt8]) {
        self.id = id
        self.publicKey = publicKey
        self.signature = signature
    }

    /// True when `identity` signed this prekey under the `catroom-spk-v1` label.
    public func isSigned(by identity: IdentityKey) -> Bool {
        identity.isValidSignature(signature, context: Label.signedPreKey, message: publicKey.bytes)
    }
}

/// A one-time prekey as published (X3DH §2.3): id and OPK_B.
public struct OneTimePreKey: Hashable, Sendable {
    public let id: UInt32
    public let publicKey: X25519.PublicKey

    public init(id: UInt32, publicKey: X25519.PublicKey) {
        self.id = id
        self.publicKey = publicKey
    }
}

/// What an initiator fetches for a peer (X3DH §3.2): IK_B, the signed prekey and at most one one-time prekey.
public struct PreKeyBundle: Hashable, Sendable {
    public let identityKey: IdentityKey
    public let signedPreKey: SignedPreKey
    public let oneTimePreKey: OneTimePreKey?

    public init(identityKey: IdentityKey, signedPreKey: SignedPreKey, oneTimePreKey: OneTimePreKey?) {
        self.identityKey = identityKey
        self.signedPreKey = signedPreKey
        self.oneTimePreKey = oneTimePreKey
    }
}
