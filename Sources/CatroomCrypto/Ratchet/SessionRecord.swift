/// Everything one member keeps for one peer: the current Double Ratchet session and
/// a few superseded ones (after simultaneous initiation), as libsignal does.
///
/// Sending always uses the current session. Decryption tries the current one,
/// then the others; one that decrypts becomes current, so both sides converge.
public struct SessionRecord: Sendable {
    var current: SessionState
    /// Newest first, at most `Limits.maxPreviousSessions`.
    var previous: [SessionState] = []

    init(_ state: SessionState) { current = state }

    init(current: SessionState, previous: [SessionState]) {
        self.current = current
        self.previous = previous
    }

    /// The peer's identity key (the same in every state of a record).
    public var remoteIdentity: IdentityKey { current.remoteIdentity }

    /// True until the peer has answered: messages still carry the X3DH fields.
    public var isAwaitingReply: Bool { current.pendingPreKey != nil }

    /// Skipped message keys held for this peer, in every state of the record: what
    /// a message that skipped ahead left behind (CR-0006 §5.8 counts gaps with it).
    public var skippedKeyCount: Int { previous.reduce(current.skipped.count) { $0 + $1.skipped.count } }

    mutating func encrypt<E: EntropySource>(_ plaintext: some RawBytes, associatedData: [UInt8], using entropy: inout E) throws -> SessionMessage {
        try current.encrypt(plaintext, associatedData: associatedData, using: &entropy)
    }

    /// Where the state created by an X3DH run with this base key is kept, if it still is:
    /// 0 for `current`, `i + 1` for `previous[i]`.
    func position(forBaseKey baseKey: X25519.PublicKey) -> Int? {
        if current.baseKey == baseKey { return 0 }
        return previous.firstIndex { $0.baseKey == baseKey }.map { $0 + 1 }
    }

    /// Decrypts without changing `self`: returns the plaintext and the record to keep on success.
    func decrypting(_ message: SessionMessage, associatedData: [UInt8]) throws -> (SessionRecord, SecretBytes) {
        if let preKey = message.preKey {
            // An initial message belongs to the session its base key made.
            guard let position = position(forBaseKey: preKey.baseKey) else { throw CryptoError.noSession }
            return try decrypting(message, associatedData: associatedData, inStateAt: position)
        }
        var failure = CryptoError.decryptionFailed
        for position in 0...previous.count {
            do {
                return try decrypting(message, associatedData: associatedData, inStateAt: position)
            } catch let error as CryptoError {
                // Report the most telling failure: a duplicate, then a skip too far, then plain failure.
                if error == .duplicateMessage || (error == .tooFarInFuture && failure != .duplicateMessage) {
                    failure = error
                }
            }
        }
        throw failure
    }

    /// Decrypts with the state at `position` only (see `position(forBaseKey:)`), without changing `self`.
    func decrypting(_ message: SessionMessage, associatedData: [UInt8], inStateAt position: Int) throws -> (SessionRecord, SecretBytes) {
        let state = position == 0 ? current : previous[position - 1]
        let (updated, plaintext) = try state.decrypting(message, associatedData: associatedData)
        var record = self
        if position == 0 {
            record.current = updated
        } else {
            record.previous.remove(at: position - 1)
            record.promote(updated)
        }
        return (record, plaintext)
    }

    /// Makes `state` current and archives the old current one.
    mutating func promote(_ state: SessionState) {
        previous.insert(current, at: 0)
        if previous.count > Limits.maxPreviousSessions { previous.removeLast() }
        current = state
    }
}
