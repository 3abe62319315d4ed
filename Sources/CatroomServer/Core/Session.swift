import CatroomProtocol

/// A bound resource (RFC 6120 §7): an authenticated stream with its full JID.
struct Session: Sendable {
    let jid: JID
    /// The account it authenticated as: the JID's localpart.
    let account: String
    let connection: ConnectionHandle
}
