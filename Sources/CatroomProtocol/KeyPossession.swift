import CatroomCrypto

/// The key-possession proof of ephemeral registration (xep/CR-0003 §5.2).
///
/// The client signs, with the Ed25519 identity key its account id is derived from,
/// a transcript that names the purpose, the server, this stream and a fresh
/// challenge, so the signature is good for one registration on one stream only.
public enum KeyPossession {
    /// Bytes of the challenge nonce.
    public static let challengeCount = 32

    /// `u16 len || domain || u16 len || stream id || nonce (32) || identity key (32)`; the
    /// signature covers `"catroom-register-v1" ||` this.
    public static func transcript(domain: String, streamID: String, nonce: [UInt8], identityKey: IdentityKey) -> [UInt8] {
        var bytes: [UInt8] = []
        for text in [domain, streamID] {
            let utf8 = Array(text.utf8)
            bytes += [UInt8(truncatingIfNeeded: utf8.count >> 8), UInt8(truncatingIfNeeded: utf8.count)] + utf8
        }
        return bytes + nonce + identityKey.bytes
    }

    public static func signature(by identity: IdentityKeyPair, domain: String, streamID: String, nonce: [UInt8]) -> [UInt8] {
        identity.signature(
            context: Label.registration,
            message: transcript(domain: domain, streamID: streamID, nonce: nonce, identityKey: identity.publicKey))
    }

    public static func isValid(
        _ signature: [UInt8], identityKey: IdentityKey, domain: String, streamID: String, nonce: [UInt8]
    ) -> Bool {
        identityKey.isValidSignature(
            signature, context: Label.registration,
            message: transcript(domain: domain, streamID: streamID, nonce: nonce, identityKey: identityKey))
    }
}
