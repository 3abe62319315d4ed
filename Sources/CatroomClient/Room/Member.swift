import CatroomCrypto

/// What this client knows of another occupant.
struct Member: Sendable {
    let id: String
    /// Known once a session exists (its account id is derived from it).
    var identity: IdentityKey?
    /// The display name from its hello, sanitised.
    var nick: String?
    /// Its hello arrived: the key exchange is complete and messages are encrypted to it.
    var ready = false
    /// This client's hello went out to it.
    var helloSent = false
    var verified = false
    /// When it appeared in the room (for the silent-reader warning).
    let seen: ContinuousClock.Instant
    /// Present when this client joined, rather than arriving later.
    let initial: Bool

    init(id: String, initial: Bool) {
        self.id = id
        self.initial = initial
        seen = .now
    }
}
