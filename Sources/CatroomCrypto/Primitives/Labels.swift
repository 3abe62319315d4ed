/// Every domain-separation string in one place (CR-0001 §7.1, CR-0002 §7.1, CR-0007 §5.1, CR-0008 §5.1).
///
/// No label is a prefix of another, so a signature or key made under one can
/// never be read as made under another (SECURITY-CASES AR-04).
public enum Label {
    /// X3DH KDF info (X3DH §2.2 "info").
    public static let x3dh = "catroom-x3dh-v1".utf8Bytes
    /// KDF_RK info (Double Ratchet §5.2).
    public static let rootChain = "catroom-ratchet-v1".utf8Bytes
    /// Expansion of a message key into an AEAD key and nonce (Double Ratchet §5.2 ENCRYPT).
    public static let messageKeys = "catroom-message-v1".utf8Bytes
    /// Expansion of a fan-out payload key into AEAD key, nonce and commitment.
    public static let fanoutKeys = "catroom-fanout-v2".utf8Bytes
    /// Prefix of the entry digest that binds each key entry to the payload (CR-0002 §5.1).
    public static let fanoutEntry = "catroom-entry-v2".utf8Bytes
    /// Prefix of the message an identity key signs to vouch for its signed prekey.
    public static let signedPreKey = "catroom-spk-v1".utf8Bytes
    /// Prefix of the hash an account id is cut from.
    public static let accountID = "catroom-id-v1".utf8Bytes
    /// Prefix of the registration transcript signed to prove key possession (CR-0003).
    public static let registration = "catroom-register-v1".utf8Bytes
    /// HKDF info prefix of a room's invite key (CR-0008 §5.2).
    public static let inviteKey = "catroom-invite-key-v1".utf8Bytes
    /// Prefix of the message an invite proof authenticates (CR-0008 §5.3).
    public static let inviteProof = "catroom-invite-proof-v1".utf8Bytes
    /// Prefix of the roster hashed into a room safety code (CR-0007 §5.1).
    public static let safetyCode = "catroom-safety-v1".utf8Bytes
}
