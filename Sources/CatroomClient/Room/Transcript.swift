import CatroomCrypto

/// Transcript consistency (xep/CR-0006 §5.8): what this member accepted in one room,
/// the acknowledgements it owes, and what others acknowledged.
///
/// Every accepted room message is named by (sender, message id, entry digest D of
/// CR-0002 §5.1), which is equal for all honest recipients of one message. Members
/// acknowledge what they accepted; a witness naming another D for a message this
/// member accepted proves a split view, and the acknowledgements of one's own
/// messages say who received them. A value type: the engine does the I/O.
struct Transcript {
    /// One message as acknowledged on the wire: `{"sender":…,"id":…,"digest":…}`.
    struct Ack: Codable, Hashable, Sendable {
        var sender: String
        /// The CR-0002 message id, 32 lowercase hex digits.
        var id: String
        /// The CR-0002 entry digest D, 64 lowercase hex digits.
        var digest: String

        /// Well-formed per CR-0006 §5.8: `sender` an account id (CR-0001 §5.1), `id` and
        /// `digest` lowercase hex of 32 and 64 digits. Others are ignored, never compared.
        var isWellFormed: Bool {
            Self.isAccountID(sender) && Self.isHex(id, count: 32) && Self.isHex(digest, count: 64)
        }

        private static func isHex(_ string: String, count: Int) -> Bool {
            string.utf8.count == count && string.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
        }

        /// 32 characters of RFC 4648 base32's lowercase alphabet.
        private static func isAccountID(_ string: String) -> Bool {
            string.utf8.count == 32 && string.utf8.allSatisfy { (0x61...0x7a).contains($0) || (0x32...0x37).contains($0) }
        }
    }

    /// What comparing acknowledgements found.
    enum Finding: Equatable {
        /// `witness` accepted `sender`'s message `messageID` with another D than this member did.
        case divergence(sender: String, messageID: String, witness: String)
        /// Who has acknowledged one of this member's own messages so far.
        case delivery(messageID: String, acknowledged: Set<String>, recipients: Set<String>)
    }

    /// Remembered per room; older entries are forgotten first (CR-0006 §7).
    static let rememberedMessages = 4096
    /// Acknowledgements carried by one payload at most.
    static let acksPerPayload = 64

    private struct Key: Hashable {
        let sender: String
        let id: String
    }

    private struct Claim: Hashable {
        let witness: String
        let message: Key
    }

    private struct Sent {
        let recipients: Set<String>
        var acknowledged: Set<String> = []
    }

    private var accepted: [Key: String] = [:]
    private var acceptedOrder: [Key] = []
    /// Acknowledgements of others' messages this member has not accepted (yet), one per
    /// witness and message (the first stands): compared if the message arrives.
    private var claims: [Claim: String] = [:]
    private var claimOrder: [Claim] = []
    private var witnesses: [Key: [String]] = [:]
    private var sent: [String: Sent] = [:]
    private var sentOrder: [String] = []
    /// Accepted since this member's previous room message: acknowledged with the next one.
    private(set) var owed: [Ack] = []

    /// A room message from someone else was accepted (CR-0002 §5.4 step 6).
    mutating func accept(sender: String, messageID: [UInt8], digest: [UInt8], acknowledge: Bool) -> [Finding] {
        let key = Key(sender: sender, id: messageID.hexString)
        let mine = digest.hexString
        guard accepted[key] == nil else { return [] }
        remember(key, mine)
        if acknowledge { owed.append(Ack(sender: sender, id: key.id, digest: mine)) }
        guard let earlier = witnesses.removeValue(forKey: key) else { return [] }
        claimOrder.removeAll { $0.message == key }
        return earlier.compactMap { witness in
            guard let claimed = claims.removeValue(forKey: Claim(witness: witness, message: key)), claimed != mine else { return nil }
            return .divergence(sender: sender, messageID: key.id, witness: witness)
        }
    }

    /// This member sent a room message to `recipients`; acknowledgements will say who got it.
    mutating func sent(messageID: [UInt8], digest: [UInt8], me: String, recipients: [String]) {
        let key = Key(sender: me, id: messageID.hexString)
        remember(key, digest.hexString)
        sent[key.id] = Sent(recipients: Set(recipients))
        sentOrder.append(key.id)
        if sentOrder.count > Self.rememberedMessages { sent[sentOrder.removeFirst()] = nil }
    }

    /// Acknowledgements carried by a room message from `witness`.
    mutating func received(_ acks: [Ack], from witness: String, me: String) -> [Finding] {
        var findings: [Finding] = []
        for ack in acks.prefix(Self.acksPerPayload) where ack.sender != witness && ack.isWellFormed {
            let key = Key(sender: ack.sender, id: ack.id)
            if let digest = accepted[key] {
                if digest != ack.digest {
                    findings.append(.divergence(sender: ack.sender, messageID: ack.id, witness: witness))
                } else if ack.sender == me, var message = sent[ack.id], message.recipients.contains(witness),
                          message.acknowledged.insert(witness).inserted {
                    sent[ack.id] = message
                    findings.append(.delivery(messageID: ack.id, acknowledged: message.acknowledged, recipients: message.recipients))
                }
            } else if ack.sender != me {
                remember(Claim(witness: witness, message: key), ack.digest)
            }
        }
        return findings
    }

    /// The acknowledgements to put in the next payload, at most `acksPerPayload`.
    mutating func takeOwed() -> [Ack] {
        let taken = Array(owed.prefix(Self.acksPerPayload))
        owed.removeFirst(taken.count)
        return taken
    }

    /// Puts back acknowledgements taken for a message that could not be sent.
    mutating func restore(_ acks: [Ack]) {
        owed.insert(contentsOf: acks, at: 0)
    }

    /// Who has acknowledged one of this member's messages, and who it went to.
    func delivery(of messageID: String) -> (acknowledged: Set<String>, recipients: Set<String>)? {
        sent[messageID].map { ($0.acknowledged, $0.recipients) }
    }

    /// The newest of this member's own room messages, if any is remembered.
    var lastSent: String? { sentOrder.last }

    private mutating func remember(_ claim: Claim, _ digest: String) {
        guard claims[claim] == nil else { return }
        claims[claim] = digest
        claimOrder.append(claim)
        witnesses[claim.message, default: []].append(claim.witness)
        guard claimOrder.count > Self.rememberedMessages else { return }
        let oldest = claimOrder.removeFirst()
        claims[oldest] = nil
        witnesses[oldest.message]?.removeAll { $0 == oldest.witness }
        if witnesses[oldest.message]?.isEmpty == true { witnesses[oldest.message] = nil }
    }

    private mutating func remember(_ key: Key, _ digest: String) {
        accepted[key] = digest
        acceptedOrder.append(key)
        if acceptedOrder.count > Self.rememberedMessages { accepted[acceptedOrder.removeFirst()] = nil }
    }
}
