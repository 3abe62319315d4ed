import Foundation

/// A member as the user sees it.
public struct MemberInfo: Sendable, Equatable {
    /// The account id: the key-derived name the server knows (CR-0001 §5.1).
    public let id: String
    /// The display name the member chose, made unique with a fingerprint suffix if it clashes.
    public let nick: String
    /// The identity key in hex, in eight groups of eight (compare it out of band).
    public let fingerprint: String
    /// The first group of the fingerprint.
    public var shortFingerprint: String { String(fingerprint.prefix(8)) }
    public let verified: Bool
    /// When the user verified it, with a profile (the verification outlives the process); nil otherwise.
    public var verifiedAt: Date? = nil
    /// Whether the key exchange is done: only then are messages encrypted to it.
    public let ready: Bool
    /// Whether it proved this room's invite secret (CR-0008); nil when this client joined
    /// without one. A member that did not is sent nothing.
    public var invited: Bool? = nil

    public init(
        id: String, nick: String, fingerprint: String, verified: Bool, verifiedAt: Date? = nil, ready: Bool, invited: Bool? = nil
    ) {
        (self.id, self.nick, self.fingerprint, self.verified) = (id, nick, fingerprint, verified)
        (self.verifiedAt, self.ready, self.invited) = (verifiedAt, ready, invited)
    }
}

/// The room's topic (CR-0006 §5.11), as this client shows it.
public struct TopicInfo: Sendable, Equatable {
    /// Empty when the topic was cleared.
    public let text: String
    /// The name of the member that set it, or the start of its account id if it is not here.
    public let setBy: String
    /// The setter's clock when it set it (never trusted).
    public let at: Date
    /// Set when a joiner learnt the topic from this member's hello, not from the setting itself.
    public let reportedBy: String?
}

/// How the server's certificate was trusted.
public enum TrustOutcome: Sendable, Equatable {
    /// First contact: the fingerprint was recorded.
    case recorded(fingerprint: String)
    /// It matched what was recorded, or the explicit pin.
    case matched(fingerprint: String)
    /// Not checked (`--insecure`, loopback only).
    case unchecked(fingerprint: String)
    /// No TLS (`--plaintext`, loopback only).
    case plaintext
}

/// A chat message, decrypted.
public struct ChatMessage: Sendable, Equatable {
    public let from: MemberInfo
    public let text: String
    /// A `/me` line.
    public let isAction: Bool
    /// A side chat, only between the sender and this member.
    public let isPrivate: Bool
    /// The sender's clock.
    public let sent: Date
    /// Members this client sees in the room that the message was not encrypted to.
    public let missingRecipients: [String]
    /// Ids the message was encrypted to that this client does not see in the room.
    public let unknownRecipients: [String]
    /// True for this member's own messages, as shown locally.
    public let isOwn: Bool
    /// For one's own side-chat message: whom it went to.
    public var to: MemberInfo?
    /// The CR-0002 message id in hex: `delivery` events name it.
    public var id: String = ""

    public init(
        from: MemberInfo, text: String, isAction: Bool, isPrivate: Bool, sent: Date, missingRecipients: [String],
        unknownRecipients: [String], isOwn: Bool, to: MemberInfo? = nil, id: String = ""
    ) {
        (self.from, self.text, self.isAction, self.isPrivate, self.sent) = (from, text, isAction, isPrivate, sent)
        (self.missingRecipients, self.unknownRecipients, self.isOwn, self.to, self.id) = (missingRecipients, unknownRecipients, isOwn, to, id)
    }
}

/// An event and the room it belongs to: nil for the connection's own (connecting,
/// reconnecting, errors that concern no room). A private message belongs to the room it
/// came through; a front end files it under its sender.
public struct ClientUpdate: Sendable, Equatable {
    /// The room's canonical bare address (`lobby@rooms.example.org`).
    public let room: String?
    public let event: ClientEvent

    public init(room: String?, event: ClientEvent) {
        self.room = room
        self.event = event
    }
}

/// Everything a front end shows, in order.
public enum ClientEvent: Sendable, Equatable {
    /// Connected and authenticated; how the certificate was trusted; this member's account id and fingerprint.
    case connected(server: String, trust: TrustOutcome, me: MemberInfo)
    /// In the room; the members already there are being contacted.
    case joined(room: String, occupants: Int)
    /// Every member present at joining has completed its key exchange: messages reach everyone.
    case ready(members: Int)
    /// A member that arrived after this client completed its key exchange.
    case memberJoined(MemberInfo)
    /// A member already in the room when this client joined completed its key exchange.
    case memberPresent(MemberInfo)
    /// A member that arrived after this client, with a key this client met before
    /// (it left and came back): still verified if it was (CR-0006 §5.10).
    case memberReconnected(MemberInfo)
    /// A name this client last saw with another key, not in the room now, arrived with
    /// `member`'s key: it may be someone else using the name (CR-0006 §5.10). `previous`
    /// is the other key's fingerprint.
    case nameReused(name: String, previous: String, member: MemberInfo)
    /// A name a member chose was refused (CR-0006 §5.4): it keeps its old name, or is shown
    /// as `unnamed#…`.
    case nameRefused(member: MemberInfo, reason: String)
    /// The server shows an occupant with whom no key exchange is complete: it is sent
    /// nothing, and if it stays that way it may be a silent reader the server added.
    case memberPending(id: String, waitedSeconds: Int)
    case memberLeft(MemberInfo)
    case nickChanged(from: String, member: MemberInfo)
    case message(ChatMessage)
    /// A message that could not be read; never silently dropped.
    case undecryptable(from: String, reason: String)
    /// A message that arrived again (replayed by the server, say): not shown a second time.
    case duplicate(from: String)
    /// Who has acknowledged one of this member's room messages so far (CR-0006 §5.8),
    /// by display name; `pending` have not (yet).
    case delivery(messageID: String, acknowledged: [String], pending: [String])
    /// A split view (CR-0006 §5.8): `witness` accepted `sender`'s message `messageID`
    /// in another version than this member did. `text` is this member's version, if shown.
    case divergence(sender: String, messageID: String, witness: String, text: String?)
    /// Messages from `from` that never arrived, found by the gap they left in the
    /// pairwise session's counters (CR-0006 §5.8).
    case missing(from: String, count: Int)
    /// The room safety code changed (CR-0007): eight groups of five digits over this
    /// member and the `members − 1` others with a completed key exchange. Every member
    /// with the same view of the room shows the same code.
    case safetyCode(code: String, members: Int)
    case notice(String)
    case error(String)
    /// The room could not be reached (connecting, the certificate check, the login or
    /// the join failed); nothing more follows from this client.
    case failed(ConnectFailure)
    /// The connection ended.
    case disconnected(reason: String)
    /// The next attempt to reconnect (from 1) starts in `seconds`; `reason` is why the last one ended.
    case reconnecting(seconds: Double, attempt: Int, reason: String)
    /// A message typed while disconnected that never went out.
    case notSent(text: String, reason: String)
    /// The room topic changed, or a joiner learnt it (CR-0006 §5.11).
    case topic(TopicInfo)
    /// An own room message the room never echoed back (XEP-0045 §7.4) before the
    /// connection dropped: it may or may not have reached the members.
    case unconfirmed(text: String)
}
