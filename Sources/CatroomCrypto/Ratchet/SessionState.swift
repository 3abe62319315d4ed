/// One Double Ratchet session (Signal, revision 1, §3.2 state variables), as a value:
/// decryption works on a copy and the caller keeps the copy only if it authenticated (§3.5).
///
/// One deliberate difference from the pseudocode: the sending half of a DH
/// ratchet step (GENERATE_DH and the second KDF_RK of §3.5 DHRatchet) runs
/// lazily, on the first send after it; until then `sendingChain` is nil. The
/// messages and keys are the same; a member who only receives never pays for it.
struct SessionState: Sendable {
    /// AD from X3DH: Encode(IK_A) || Encode(IK_B).
    let associatedData: [UInt8]
    let remoteIdentity: IdentityKey
    /// EK_A of the X3DH run that created this session: names it among a peer's sessions.
    let baseKey: X25519.PublicKey

    var rootKey: RootKey
    /// DHs; nil once a receiving step has retired it and no message has been sent since.
    var sendingRatchetKey: X25519.KeyPair?
    /// DHr
    var receivingRatchetKey: X25519.PublicKey?
    /// CKs; nil while the sending half of a DH step is pending.
    var sendingChain: ChainKey?
    /// CKr
    var receivingChain: ChainKey?
    /// Ns, Nr, PN
    var sendCount: UInt32 = 0
    var receiveCount: UInt32 = 0
    var previousSendCount: UInt32 = 0
    /// MKSKIPPED
    var skipped = SkippedMessageKeys()
    /// Ratchet keys of finished receiving chains, newest last, for duplicate detection.
    var previousReceivingKeys: [X25519.PublicKey] = []
    /// The initiator sends the X3DH fields with every message until the first reply arrives.
    var pendingPreKey: PreKeyInfo?

    // MARK: - Initialisation (§3.3, with SK and SPK_B from X3DH §3.3)

    /// RatchetInitAlice: DHr = SPK_B, RK = SK; the first send performs the DH step.
    static func initiator(agreement: X3DH.Agreement, remoteIdentity: IdentityKey, remoteSignedPreKey: X25519.PublicKey, preKey: PreKeyInfo) -> SessionState {
        var state = SessionState(
            associatedData: agreement.associatedData, remoteIdentity: remoteIdentity, baseKey: preKey.baseKey,
            rootKey: RootKey(secret: agreement.sharedSecret))
        state.receivingRatchetKey = remoteSignedPreKey
        state.pendingPreKey = preKey
        return state
    }

    /// RatchetInitBob: DHs = the signed prekey pair, RK = SK.
    static func responder(agreement: X3DH.Agreement, remoteIdentity: IdentityKey, signedPreKey: X25519.KeyPair, baseKey: X25519.PublicKey) -> SessionState {
        var state = SessionState(
            associatedData: agreement.associatedData, remoteIdentity: remoteIdentity, baseKey: baseKey,
            rootKey: RootKey(secret: agreement.sharedSecret))
        state.sendingRatchetKey = signedPreKey
        return state
    }

    /// The fields fixed at creation; `initiator`, `responder` and deserialisation
    /// (SessionRecord+Serialization) set the rest.
    init(associatedData: [UInt8], remoteIdentity: IdentityKey, baseKey: X25519.PublicKey, rootKey: RootKey) {
        self.associatedData = associatedData
        self.remoteIdentity = remoteIdentity
        self.baseKey = baseKey
        self.rootKey = rootKey
    }

    // MARK: - Encrypting (§3.4 RatchetEncrypt)

    mutating func encrypt<E: EntropySource>(_ plaintext: some RawBytes, associatedData extra: [UInt8], using entropy: inout E) throws -> SessionMessage {
        if sendingChain == nil {
            // Sending half of the DH ratchet step (§3.5 DHRatchet, deferred):
            // DHs = GENERATE_DH(); RK, CKs = KDF_RK(RK, DH(DHs, DHr))
            guard let remote = receivingRatchetKey else { throw CryptoError.noSession }
            let pair = X25519.KeyPair.generate(using: &entropy)
            let (root, chain) = rootKey.ratchet(with: try pair.privateKey.sharedSecret(with: remote))
            rootKey = root
            sendingChain = chain
            sendingRatchetKey = pair
        }
        guard let chain = sendingChain, let ratchetKey = sendingRatchetKey?.publicKey else { throw CryptoError.noSession }
        // CKs, mk = KDF_CK(CKs)
        let (messageKey, next) = chain.step()
        sendingChain = next
        precondition(sendCount < UInt32.max, "sending chain exhausted")
        let header = RatchetHeader(ratchetKey: ratchetKey, previousChainLength: previousSendCount, messageNumber: sendCount)
        sendCount += 1
        let prefix = SessionMessage.prefix(preKey: pendingPreKey, header: header)
        // ENCRYPT(mk, plaintext, CONCAT(AD, header)), with the caller's context appended.
        let ciphertext = messageKey.seal(plaintext, associatedData: associatedData + prefix + extra)
        return SessionMessage(preKey: pendingPreKey, header: header, ciphertext: ciphertext)
    }

    // MARK: - Decrypting (§3.5 RatchetDecrypt)

    /// Decrypts `message` and returns the plaintext with the state that results;
    /// `self` is untouched, so a failure changes nothing.
    func decrypting(_ message: SessionMessage, associatedData extra: [UInt8]) throws -> (SessionState, SecretBytes) {
        let header = message.header
        let ad = associatedData + message.authenticatedPrefix + extra
        var state = self

        // TrySkippedMessageKeys
        let index = SkippedMessageKeys.Index(ratchetKey: header.ratchetKey, messageNumber: header.messageNumber)
        if let key = skipped.key(for: index) {
            let plaintext = try key.open(message.ciphertext, associatedData: ad)
            state.skipped.remove(index)
            state.pendingPreKey = nil
            return (state, plaintext)
        }

        if header.ratchetKey != receivingRatchetKey {
            guard !previousReceivingKeys.contains(header.ratchetKey) else { throw CryptoError.duplicateMessage }
            // Bound the work before deriving anything: the rest of the current
            // chain plus the start of the new one must fit in MAX_SKIP.
            let rest = receivingChain == nil ? 0 : Int(header.previousChainLength) - Int(receiveCount)
            guard max(rest, 0) + Int(header.messageNumber) <= Limits.maxSkip else { throw CryptoError.tooFarInFuture }
            state.skipMessageKeys(until: header.previousChainLength)
            try state.receivingStep(header.ratchetKey)
        } else {
            // The initiator's DHr starts as SPK_B with no chain: nothing is ever sent on it.
            guard receivingChain != nil else { throw CryptoError.decryptionFailed }
            guard header.messageNumber >= receiveCount else { throw CryptoError.duplicateMessage }
            guard Int(header.messageNumber) - Int(receiveCount) <= Limits.maxSkip else { throw CryptoError.tooFarInFuture }
        }
        state.skipMessageKeys(until: header.messageNumber)
        // CKr, mk = KDF_CK(CKr); Nr += 1
        guard let chain = state.receivingChain else { throw CryptoError.decryptionFailed }
        let (messageKey, next) = chain.step()
        state.receivingChain = next
        state.receiveCount += 1
        let plaintext = try messageKey.open(message.ciphertext, associatedData: ad)
        // A reply proves the responder holds the session: stop sending X3DH fields.
        state.pendingPreKey = nil
        return (state, plaintext)
    }

    /// SkipMessageKeys(state, until): stores the keys of messages Nr..<until of the receiving chain.
    /// The caller has already checked the count against MAX_SKIP.
    private mutating func skipMessageKeys(until end: UInt32) {
        guard var chain = receivingChain, let ratchetKey = receivingRatchetKey else { return }
        while receiveCount < end {
            let (messageKey, next) = chain.step()
            skipped.insert(messageKey, for: .init(ratchetKey: ratchetKey, messageNumber: receiveCount))
            chain = next
            receiveCount += 1
        }
        receivingChain = chain
    }

    /// Receiving half of DHRatchet (§3.5): PN = Ns; Ns = Nr = 0; DHr = header.dh;
    /// RK, CKr = KDF_RK(RK, DH(DHs, DHr)). The sending half waits for the next send.
    private mutating func receivingStep(_ ratchetKey: X25519.PublicKey) throws {
        guard let local = sendingRatchetKey else { throw CryptoError.decryptionFailed }
        let (root, chain) = rootKey.ratchet(with: try local.privateKey.sharedSecret(with: ratchetKey))
        if let old = receivingRatchetKey {
            previousReceivingKeys.append(old)
            if previousReceivingKeys.count > Limits.maxPreviousReceivingKeys { previousReceivingKeys.removeFirst() }
        }
        previousSendCount = sendCount
        sendCount = 0
        receiveCount = 0
        receivingRatchetKey = ratchetKey
        rootKey = root
        receivingChain = chain
        sendingRatchetKey = nil
        sendingChain = nil
    }
}
