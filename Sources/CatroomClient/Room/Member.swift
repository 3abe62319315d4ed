import CatroomCrypto

/// What this client knows of another occupant.
struct Member: Sendable {
    let id: String
    /// Known once a session exists (its account id is derived from it).
    var identity: IdentityKey?
    /// The display name from its hello, as `DisplayName.check` shows it; nil before the
    /// hello, or when the name was refused (it is then shown as `unnamed#…`).
    var nick: String?
    /// Its hello arrived: the key exchange is complete and messages are encrypted to it.
    var ready = false
    /// A message of its arrived without an entry for this client before its hello: said
    /// once, since until the exchange completes that is expected (CR-0006 §5.6 step 2).
    var missedBeforeReady = false
    /// This client's hello went out to it.
    var helloSent = false
    /// Whether its hello proved the invite secret (CR-0008 §5.4); nil when this client holds none.
    var invited: Bool?
    /// When it appeared in the room (for the silent-reader warning).
    let seen: ContinuousClock.Instant
    /// Present when this client joined, rather than arriving later.
    let initial: Bool
    /// Its place in the order of arrivals (`KnownMembers.nextClaim`): its claim on the name of
    /// its first hello, whenever that hello arrives (CR-0006 §5.4).
    let arrival: UInt64

    /// Messages are encrypted to it: its exchange is complete and, if this client holds
    /// an invite secret, it proved it (CR-0006 §5.5, CR-0008 §5.5).
    var receives: Bool { ready && invited != false }

    init(id: String, initial: Bool, arrival: UInt64) {
        self.id = id
        self.initial = initial
        self.arrival = arrival
        seen = .now
    }
}
