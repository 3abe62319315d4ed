import CatroomCrypto
import CatroomProtocol

/// One account's published prekeys (CR-0004): the signed prekey and a queue of
/// one-time prekeys, each handed out at most once.
struct StoredBundle: Sendable {
    /// One-time prekeys kept per account, in total.
    static let capacity = BundleElement.capacity
    /// Below this many, the owner is told to refill.
    static let lowStock = LowStockNotice.threshold

    var identityKey: IdentityKey
    var signedPreKey: SignedPreKey
    var oneTimePreKeys: [OneTimePreKey]
    var lowStockNoticeSent = false

    /// Adds a publication: the signed prekey is replaced, the one-time prekeys appended.
    /// Throws `not-acceptable` for a reused prekey id and `resource-constraint` past the cap.
    mutating func publish(_ bundle: BundleElement) throws(StanzaError) {
        guard bundle.identityKey == identityKey else { throw StanzaError(.notAcceptable, text: "identity key changed") }
        let ids = Set(oneTimePreKeys.map(\.id))
        guard bundle.oneTimePreKeys.allSatisfy({ !ids.contains($0.id) }) else {
            throw StanzaError(.notAcceptable, text: "one-time prekey id already used")
        }
        guard oneTimePreKeys.count + bundle.oneTimePreKeys.count <= Self.capacity else {
            throw StanzaError(.resourceConstraint, text: "at most \(Self.capacity) one-time prekeys")
        }
        signedPreKey = bundle.signedPreKey
        oneTimePreKeys += bundle.oneTimePreKeys
        if oneTimePreKeys.count >= Self.lowStock { lowStockNoticeSent = false }
    }

    /// The bundle for one fetch (X3DH §3.2): the oldest one-time prekey, which is deleted.
    mutating func take() -> BundleElement {
        let oneTime = oneTimePreKeys.isEmpty ? [] : [oneTimePreKeys.removeFirst()]
        return BundleElement(identityKey: identityKey, signedPreKey: signedPreKey, oneTimePreKeys: oneTime)
    }

    /// True once when the stock falls below `lowStock`.
    mutating func needsLowStockNotice() -> Bool {
        guard oneTimePreKeys.count < Self.lowStock, !lowStockNoticeSent else { return false }
        lowStockNoticeSent = true
        return true
    }
}
