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

        /// Well-formed per CR-0006 §5.8; others are ignored, never compared.
        var isWellFormed: Bool {
            !sender.isEmpty && sender.utf8.count <= 255 && Self.isHex(id, count: 32) && Self.isHex(digest, count: 64)
        }

        private static func isHex(_ string: String, count: Int) -> Bool {
            string.utf8.count == count && string.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
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

    private struct Sent {
        let recipients: Set<String>
        var acknowledged: Set<String> = []
    }

    private var accepted: [Key: String] = [:]
    private var acceptedOrder: [Key] = []
    /// Acknowledgements of messages this member has not accepted (yet): compared if it arrives.
    private var claims: [Key: [(witness: String, digest: String)]] = [:]
    private var claimOrder: [Key] = []
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
        let earlier = claims.removeValue(forKey: key) ?? []
        return earlier.filter { $0.digest != mine }.map { .divergence(sender: sender, messageID: key.id, witness: $0.witness) }
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
                if claims[key] == nil { claimOrder.append(key) }
                if claims[key]?.contains(where: { $0.witness == witness }) != true {
                    claims[key, default: []].append((witness, ack.digest))
                }
                if claimOrder.count > Self.rememberedMessages { claims[claimOrder.removeFirst()] = nil }
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

    private mutating func remember(_ key: Key, _ digest: String) {
        accepted[key] = digest
        acceptedOrder.append(key)
        if acceptedOrder.count > Self.rememberedMessages { accepted[acceptedOrder.removeFirst()] = nil }
    }
}
