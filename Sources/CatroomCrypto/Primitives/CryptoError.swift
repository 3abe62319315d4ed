/// Every expected failure of `CatroomCrypto`.
///
/// Authentication failures say little on purpose (`decryptionFailed`); duplicates
/// are reported apart so that a front end can drop them quietly.
public enum CryptoError: Error, Equatable, Sendable {
    /// A public key is malformed, non-canonical or of low order.
    case invalidKey
    /// A signature does not verify, such as a signed prekey's.
    case invalidSignature
    /// A ciphertext, header or associated data failed to authenticate.
    case decryptionFailed
    /// This message was already decrypted; nothing changed.
    case duplicateMessage
    /// The header asks for more skipped message keys than `Limits.maxSkip`.
    case tooFarInFuture
    /// The bytes are not a well-formed encoding.
    case malformed
    /// The encoding names a version this implementation does not speak.
    case unsupportedVersion(UInt8)
    /// The signed or one-time prekey a message names is not (or no longer) held.
    case unknownPreKey
    /// No session exists with that peer.
    case noSession
    /// The peer's identity key does not match the id it claims or the session it names.
    case identityMismatch
    /// A fan-out message's context (room, kind, recipients, sender) does not fit where it arrived.
    case contextMismatch
    /// A fan-out entry authenticated, but the key it carries does not match the
    /// message's commitment: the sender itself sent recipients different keys.
    case commitmentMismatch
    /// A fan-out entry and commitment authenticated, but the payload did not:
    /// the sender itself sealed a payload that does not open.
    case payloadInvalid
    /// A passphrase hash could not get the memory its limits ask for.
    case outOfMemory
}
