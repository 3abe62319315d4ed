/// The X3DH key agreement (Signal, revision 1, 2016-11-04) with X25519 and SHA-256.
///
/// Identity keys are Ed25519 and take part in DH in their X25519 form;
/// `Encode(IK)` is the 32-byte Ed25519 public key (CR-0001 §5.2).
public enum X3DH {
    /// What both parties hold after the agreement (X3DH §3.3): SK and AD.
    public struct Agreement: Sendable {
        /// SK: 32 bytes.
        public let sharedSecret: SecretBytes
        /// AD = Encode(IK_A) || Encode(IK_B).
        public let associatedData: [UInt8]
    }

    /// X3DH §3.3, Alice's side. The prekey signature is verified before any DH.
    public static func initiate(identity: IdentityKeyPair, ephemeral: X25519.KeyPair, bundle: PreKeyBundle) throws -> Agreement {
        // "Alice verifies the prekey signature and aborts the protocol if verification fails."
        guard bundle.signedPreKey.isSigned(by: bundle.identityKey) else { throw CryptoError.invalidSignature }
        let identityPrivate = identity.agreementKey
        let dh1 = try identityPrivate.sharedSecret(with: bundle.signedPreKey.publicKey)                  // DH(IK_A, SPK_B)
        let dh2 = try ephemeral.privateKey.sharedSecret(with: bundle.identityKey.agreementKey)           // DH(EK_A, IK_B)
        let dh3 = try ephemeral.privateKey.sharedSecret(with: bundle.signedPreKey.publicKey)             // DH(EK_A, SPK_B)
        var outputs = [dh1, dh2, dh3]
        if let oneTime = bundle.oneTimePreKey {
            outputs.append(try ephemeral.privateKey.sharedSecret(with: oneTime.publicKey))               // DH(EK_A, OPK_B)
        }
        return Agreement(
            sharedSecret: kdf(outputs),
            associatedData: identity.publicKey.bytes + bundle.identityKey.bytes)
    }

    /// X3DH §3.4, Bob's side: the same four DHs from the other ends.
    public static func respond(
        identity: IdentityKeyPair, signedPreKey: X25519.PrivateKey, oneTimePreKey: X25519.PrivateKey?,
        initiatorIdentity: IdentityKey, baseKey: X25519.PublicKey
    ) throws -> Agreement {
        let dh1 = try signedPreKey.sharedSecret(with: initiatorIdentity.agreementKey)   // DH(SPK_B, IK_A)
        let dh2 = try identity.agreementKey.sharedSecret(with: baseKey)                 // DH(IK_B, EK_A)
        let dh3 = try signedPreKey.sharedSecret(with: baseKey)                          // DH(SPK_B, EK_A)
        var outputs = [dh1, dh2, dh3]
        if let oneTimePreKey {
            outputs.append(try oneTimePreKey.sharedSecret(with: baseKey))               // DH(OPK_B, EK_A)
        }
        return Agreement(
            sharedSecret: kdf(outputs),
            associatedData: initiatorIdentity.bytes + identity.publicKey.bytes)
    }

    /// X3DH §2.2: KDF(KM) = HKDF(salt = 32 zero bytes, IKM = F || KM, info), F = 32 bytes of 0xFF, 32 bytes out.
    static func kdf(_ outputs: [SecretBytes]) -> SecretBytes {
        let keyMaterial = SecretBytes(count: 32 + outputs.count * X25519.keyCount) { ikm in
            ikm.initializeMemory(as: UInt8.self, repeating: 0xff)
            var offset = 32
            for output in outputs {
                output.withUnsafeBytes { ikm.baseAddress!.advanced(by: offset).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                offset += X25519.keyCount
            }
        }
        return HKDF.deriveKey(salt: EmptySalt.zeros, inputKeyMaterial: keyMaterial, info: Label.x3dh, outputCount: 32)
    }
}
