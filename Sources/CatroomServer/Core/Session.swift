import CatroomProtocol

/// A bound resource (RFC 6120 §7): an authenticated stream with its full JID.
struct Session: Sendable {
    let jid: JID
    let connection: ConnectionHandle
    var account: String { jid.localpart! }
}
