import CatroomCrypto
import CatroomProtocol
import CatroomXML
import NIOConcurrencyHelpers
import NIOCore

/// All state the connections share: accounts, bound sessions, rooms, per-address
/// limits. One lock guards it; every operation is short and returns the stanzas
/// to deliver, which the caller sends after the lock is released.
final class Hub: @unchecked Sendable {
    let configuration: ServerConfiguration
    let domain: JID
    let roomDomain: JID
    /// Keys the SCRAM decoy salts (RFC 5802 §9), fresh for each server run.
    let decoyKey = randomBytes(count: 32)
    /// Nil unless `/metrics` is served.
    let metrics: ServerMetrics?
    private let lock = NIOLock()
    private var accounts: [String: Account] = [:]
    /// Registrations from all addresses.
    private var registrations: TokenBucket
    private var sessions: [JID: Session] = [:]
    private var rooms: [JID: Room] = [:]
    private var addresses: AddressLimiter
    /// Connections admitted and not yet closed, for the server-wide cap.
    private var admitted = 0
    private var connections: [Int: ConnectionHandle] = [:]
    // Indexes, so that no operation scans every account, session or room.
    private var accountsOfConnection: [Int: Set<String>] = [:]
    private var sessionsOfAccount: [String: Set<JID>] = [:]
    private var roomsOfSession: [JID: Set<JID>] = [:]

    init(configuration: ServerConfiguration) throws(ServerError) {
        self.configuration = configuration
        guard let domain = try? JID(localpart: nil, domain: configuration.domain),
              let roomDomain = try? JID(localpart: nil, domain: configuration.roomDomain)
        else { throw ServerError.invalidDomain(configuration.domain) }
        self.domain = domain
        self.roomDomain = roomDomain
        metrics = configuration.metrics == nil ? nil : ServerMetrics()
        addresses = AddressLimiter(limits: configuration.limits)
        let perMinute = Double(configuration.limits.totalRegistrationsPerMinute)
        registrations = TokenBucket(rate: perMinute / 60, burst: perMinute)
    }

    private func locked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    // MARK: - Connections (SECURITY-CASES SR-02)

    /// Admits a new connection from `address`, or returns the stream error that refuses it
    /// (RFC 6120 §4.9.3.17 past the server's cap, §4.9.3.12 past the address's).
    func admit(address: String) -> StreamError? {
        locked {
            guard admitted < configuration.limits.maxConnections else {
                metrics?.hit(.maxConnections)
                return StreamError(.resourceConstraint, text: "the server has too many connections, try again later")
            }
            if let limit = addresses.admit(address) {
                metrics?.hit(limit)
                return StreamError(.policyViolation, text: "too many connections from your address, try again later")
            }
            admitted += 1
            return nil
        }
    }

    /// Tracks an admitted connection until it closes (for shutdown and counts).
    func register(_ connection: ConnectionHandle) {
        locked { connections[connection.id] = connection }
    }

    var allConnections: [ConnectionHandle] { locked { Array(connections.values) } }

    /// A connection closed: unbind its session, leave its rooms, and end ephemeral
    /// accounts it kept alive (CR-0003 §5.4). Returns the presences to send.
    func connectionClosed(_ connection: ConnectionHandle, session: JID?) -> [Delivery] {
        locked {
            addresses.release(connection.address)
            admitted -= 1
            connections[connection.id] = nil
            var deliveries: [Delivery] = []
            if let session { deliveries += unbindLocked(session) }
            for localpart in accountsOfConnection.removeValue(forKey: connection.id) ?? [] {
                guard accounts[localpart]?.connections.remove(connection) != nil else { continue }
                if let account = accounts[localpart], account.connections.isEmpty, case .ephemeral = account.kind {
                    accounts[localpart] = nil
                }
            }
            return deliveries
        }
    }

    var openConnections: Int { locked { connections.count } }

    var accountCount: Int { locked { accounts.count } }

    var roomCount: Int { locked { rooms.count } }

    var sessionCount: Int { locked { sessions.count } }

    /// What the gauges of `/metrics` show; an occupant is a session in a room.
    var counts: (connections: Int, accounts: Int, rooms: Int, occupants: Int) {
        locked { (connections.count, accounts.count, rooms.count, roomsOfSession.values.reduce(0) { $0 + $1.count }) }
    }

    // MARK: - Registration (CR-0003)

    /// Whether a registration may go ahead: within the rate of `address`, then within the server's.
    func allowRegistration(from address: String) -> Bool {
        locked {
            guard addresses.allowRegistration(from: address) else {
                metrics?.hit(.registrationsPerMinute)
                return false
            }
            guard registrations.take() else {
                metrics?.hit(.totalRegistrationsPerMinute)
                return false
            }
            return true
        }
    }

    /// Creates the ephemeral account of `identityKey`, kept alive by `connection`. An
    /// existing account of the same key is replaced and its streams closed (AR-05);
    /// a new one past the account cap is refused with `resource-constraint`.
    func registerEphemeral(
        identityKey: IdentityKey, credentials: SCRAM.Credentials, connection: ConnectionHandle
    ) throws(StanzaError) -> [ConnectionHandle] {
        try locked { () throws(StanzaError) in
            let localpart = identityKey.accountID
            var replaced: [ConnectionHandle] = []
            if let existing = accounts[localpart] {
                replaced = existing.connections.filter { $0 != connection }
            } else {
                try checkAccountCapLocked()
            }
            accounts[localpart] = Account(
                localpart: localpart, kind: .ephemeral(identityKey), credentials: credentials, connections: [connection],
                limits: configuration.limits)
            accountsOfConnection[connection.id, default: []].insert(localpart)
            metrics?.registrations.increment()
            return replaced
        }
    }

    /// Creates a plain account (XEP-0077), or throws `conflict` if the name is taken.
    func registerPlain(localpart: String, credentials: SCRAM.Credentials) throws(StanzaError) {
        try locked { () throws(StanzaError) in
            guard accounts[localpart] == nil else { throw StanzaError(.conflict, text: "username taken") }
            try checkAccountCapLocked()
            accounts[localpart] = Account(localpart: localpart, kind: .plain, credentials: credentials, limits: configuration.limits)
            metrics?.registrations.increment()
        }
    }

    private func checkAccountCapLocked() throws(StanzaError) {
        guard accounts.count < configuration.limits.maxAccounts else {
            metrics?.hit(.maxAccounts)
            throw StanzaError(.resourceConstraint, text: "the server has too many accounts, try again later")
        }
    }

    func credentials(for localpart: String) -> SCRAM.Credentials? {
        locked { accounts[localpart]?.credentials }
    }

    /// Ties `connection` to the account it authenticated as, so the account lives while it does.
    func attach(_ connection: ConnectionHandle, to localpart: String) -> Bool {
        locked {
            guard accounts[localpart]?.connections.insert(connection) != nil else { return false }
            accountsOfConnection[connection.id, default: []].insert(localpart)
            return true
        }
    }

    // MARK: - Sessions (RFC 6120 §7)

    /// Binds `jid` for `connection`; `conflict` if that resource is taken, `resource-constraint`
    /// past the per-account stream cap.
    func bind(_ jid: JID, connection: ConnectionHandle) throws(StanzaError) -> Session {
        try locked { () throws(StanzaError) in
            guard sessions[jid] == nil else { throw StanzaError(.conflict) }
            guard let account = jid.localpart else { throw StanzaError(.jidMalformed) }
            guard sessionsOfAccount[account, default: []].count < configuration.limits.maxStreamsPerAccount else {
                metrics?.hit(.maxStreamsPerAccount)
                throw StanzaError(.resourceConstraint, type: .cancel)
            }
            let session = Session(jid: jid, account: account, connection: connection)
            sessions[jid] = session
            sessionsOfAccount[account, default: []].insert(jid)
            return session
        }
    }

    private func unbindLocked(_ jid: JID) -> [Delivery] {
        guard sessions.removeValue(forKey: jid) != nil else { return [] }
        let account = jid.localpart ?? ""
        sessionsOfAccount[account]?.remove(jid)
        if sessionsOfAccount[account]?.isEmpty == true { sessionsOfAccount[account] = nil }
        var deliveries: [Delivery] = []
        for roomJID in roomsOfSession[jid] ?? [] {
            deliveries += leaveLocked(room: roomJID, session: jid).filter { $0.to.jid != jid }
        }
        return deliveries
    }

    func session(_ jid: JID) -> Session? { locked { sessions[jid] } }

    /// The sessions of a bare JID.
    func sessions(of bare: JID) -> [Session] {
        locked { (sessionsOfAccount[bare.localpart ?? ""] ?? []).compactMap { sessions[$0] } }
    }

    // MARK: - Rooms (CR-0005)

    func join(room: JID, nick: String, session: Session, password: String?) -> Result<[Delivery], StanzaError> {
        locked {
            // Rooms of every stream of the account: one nick per room, so no room counts twice.
            let joined = (sessionsOfAccount[session.account] ?? []).reduce(0) { $0 + (roomsOfSession[$1]?.count ?? 0) }
            guard joined < configuration.limits.maxRoomsPerAccount else {
                metrics?.hit(.maxRoomsPerAccount)
                return .failure(StanzaError(.policyViolation, type: .cancel, text: "in \(joined) rooms already, the most this server allows: leave one first"))
            }
            let isNew = rooms[room] == nil
            var target = rooms[room] ?? Room(jid: room, password: password, maxOccupants: configuration.limits.maxOccupants)
            let result = target.join(nick: nick, session: session, password: password, isNew: isNew)
            switch result {
            case .success:
                rooms[room] = target
                roomsOfSession[session.jid, default: []].insert(room)
            case .failure(let error) where error == Room.full:
                metrics?.hit(.maxOccupants)
            case .failure: break
            }
            return result
        }
    }

    func leave(room: JID, session: JID) -> [Delivery] {
        locked { leaveLocked(room: room, session: session) }
    }

    private func leaveLocked(room: JID, session: JID) -> [Delivery] {
        guard var target = rooms[room] else { return [] }
        let deliveries = target.leave(session: session)
        roomsOfSession[session]?.remove(room)
        if roomsOfSession[session]?.isEmpty == true { roomsOfSession[session] = nil }
        // A room exists while someone is in it.
        rooms[room] = target.isEmpty ? nil : target
        return deliveries
    }

    /// The occupant `session` is in `room`, if it is.
    func occupant(of room: JID, session: JID) -> Room.Occupant? {
        locked { rooms[room]?.occupant(session: session) }
    }

    /// A copy of the room as it is now, so a message is checked and fanned out to
    /// these occupants without holding the lock.
    func room(_ room: JID) -> Room? {
        locked { rooms[room] }
    }

    /// Whether the room has a password; nil when there is no such room.
    func roomIsPasswordProtected(_ room: JID) -> Bool? {
        locked { rooms[room].map { $0.passwordDigest != nil } }
    }

    // MARK: - Bundles (CR-0004)

    /// Stores or extends `localpart`'s bundle, whose signature the caller has checked.
    /// The identity key must be the account's own (for an ephemeral account).
    func publish(_ bundle: BundleElement, by localpart: String) throws(StanzaError) {
        try locked { () throws(StanzaError) in
            guard var account = accounts[localpart] else { throw StanzaError(.notAuthorized) }
            if let key = account.identityKey, key != bundle.identityKey {
                throw StanzaError(.notAcceptable, text: "not your identity key")
            }
            guard account.publications.take() else {
                metrics?.hit(.bundlePublications)
                throw StanzaError(.resourceConstraint, text: "too many bundle publications, try later")
            }
            if account.bundle == nil {
                account.bundle = StoredBundle(identityKey: bundle.identityKey, signedPreKey: bundle.signedPreKey, oneTimePreKeys: bundle.oneTimePreKeys)
            } else {
                try account.bundle?.publish(bundle)
            }
            accounts[localpart] = account
        }
    }

    /// Hands out `localpart`'s bundle with at most one one-time prekey, which is deleted;
    /// also the one-time prekeys left, and the owner's sessions to notify when the stock ran low.
    func fetchBundle(of localpart: String) -> (BundleElement, remaining: Int, lowStock: [Session])? {
        locked {
            // Changed in place: a copy taken out and put back would copy the prekeys each time.
            guard let handed = accounts[localpart]?.bundle?.take(),
                  let notify = accounts[localpart]?.bundle?.needsLowStockNotice(),
                  let remaining = accounts[localpart]?.bundle?.oneTimePreKeys.count
            else { return nil }
            let owners = notify ? (sessionsOfAccount[localpart] ?? []).compactMap { sessions[$0] } : []
            return (handed, remaining, owners)
        }
    }

    func allowBundleFetch(by localpart: String) -> Bool {
        locked {
            guard let allowed = accounts[localpart]?.fetches.take() else { return false }
            if !allowed { metrics?.hit(.bundleFetches) }
            return allowed
        }
    }
}
