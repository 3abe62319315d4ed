import CatroomClient
import CatroomCrypto
import Foundation

/// An open profile (docs/profile-format.md): the identity key pair and the contacts,
/// sealed in one SQLite file that this process holds locked until it releases the value.
///
/// Every method is safe from any thread; writes are durable when they return
/// (WAL with `synchronous=FULL`). `ProfileWriter` keeps them off the receive path.
public final class Profile: @unchecked Sendable {
    public let name: String
    public let identity: IdentityKeyPair
    /// The contacts as read at opening.
    public let contacts: [KnownMembers.Contact]
    /// The settings: as read at opening, or as last changed.
    public var settings: ProfileSettings { mutex.withLock { storedSettings } }
    /// Under `mutex`.
    var storedSettings: ProfileSettings
    /// The file's schema version when it was opened, before any migration.
    public let openedVersion: Int64

    let database: SQLiteDatabase
    private let master: SecretBytes
    let keys: ProfileKeys
    /// Held for the life of this value: one process per profile.
    private let lock: ProfileLock
    /// SQLite's connection is used by one caller at a time.
    private let mutex = NSLock()

    private init(name: String, lock: ProfileLock, database: SQLiteDatabase, master: SecretBytes,
                 identity: IdentityKeyPair, contacts: [KnownMembers.Contact], settings: ProfileSettings, openedVersion: Int64) {
        self.name = name
        self.lock = lock
        self.database = database
        self.master = master
        keys = ProfileKeys(masterKey: master)
        self.identity = identity
        self.contacts = contacts
        storedSettings = settings
        self.openedVersion = openedVersion
    }

    // MARK: - Creating and opening

    /// Creates the profile `name` with a new master key wrapped under `passphrase`,
    /// `identity` and `settings`. Nothing is left behind if it fails.
    public static func create(_ name: String, in directory: ProfileDirectory, passphrase: SecretBytes,
                              limits: Argon2id.Limits = .moderate, identity: IdentityKeyPair = .generate(),
                              settings: ProfileSettings = ProfileSettings()) throws(ProfileError) -> Profile {
        try ProfileDirectory.validate(name)
        try directory.prepare()
        let lock = try ProfileLock(path: directory.lockPath(name), name: name)
        let path = directory.databasePath(name)
        try directory.createDatabaseFile(name)
        do {
            return try guarded(name) {
                let database = try SQLiteDatabase(path: path, create: false)
                try configure(database)
                try database.execute("PRAGMA journal_mode = WAL")
                var entropy = SystemEntropy()
                let master = SecretBytes(count: KeyRecord.masterKeyCount) { entropy.fill($0) }
                let record = try KeyRecord(wrapping: master, passphrase: passphrase, limits: limits)
                let keys = ProfileKeys(masterKey: master)
                try database.transaction {
                    try Schema.migrate(database, from: 0)
                    try database.run(
                        "INSERT INTO keyring (id, salt, opslimit, memlimit, box) VALUES (1, ?, ?, ?, ?)",
                        [.blob(record.salt), .integer(Int64(record.limits.operations)), .integer(Int64(record.limits.memoryBytes)), .blob(record.box)])
                    try database.run("INSERT INTO identity (id, box) VALUES (1, ?)", [.blob(sealIdentity(identity, keys: keys))])
                    try writeSettings(settings, database: database, keys: keys)
                }
                return Profile(name: name, lock: lock, database: database, master: master,
                               identity: identity, contacts: [], settings: settings, openedVersion: 0)
            }
        } catch {
            for file in directory.files(name) { unlink(file) }
            throw error
        }
    }

    /// Opens the profile `name`: checks the passphrase against the key record before
    /// anything is written, then brings an older schema up to date, reads every row but the
    /// history's, and deletes the history older than the settings keep, as of `now`.
    public static func open(_ name: String, in directory: ProfileDirectory, passphrase: SecretBytes,
                            now: Date = Date()) throws(ProfileError) -> Profile {
        try ProfileDirectory.validate(name)
        guard directory.exists(name) else { throw .notFound(name) }
        let lock = try ProfileLock(path: directory.lockPath(name), name: name)
        return try guarded(name) {
            let database = try SQLiteDatabase(path: directory.databasePath(name), create: false)
            try configure(database)
            let version = try database.integer("PRAGMA user_version")
            guard version <= Schema.current else { throw ProfileError.newerSchema(name: name, version: version) }
            guard version > 0 else { throw ProfileError.damaged(name: name, detail: "it holds no profile (an interrupted create?)") }
            let record = try readKeyRecord(database, name: name)
            guard let master = try record.unwrap(passphrase: passphrase) else { throw ProfileError.wrongPassphrase(name) }
            try database.execute("PRAGMA journal_mode = WAL")
            if version < Schema.current { try database.transaction { try Schema.migrate(database, from: version) } }
            let keys = ProfileKeys(masterKey: master)
            let identity = try readIdentity(database, keys: keys, name: name)
            let contacts = try readContacts(database, keys: keys, name: name)
            let settings = try readSettings(database, keys: keys, name: name)
            let profile = Profile(name: name, lock: lock, database: database, master: master,
                                  identity: identity, contacts: contacts, settings: settings, openedVersion: version)
            try profile.pruneHistory(now: now)
            return profile
        }
    }

    /// Per connection: zero what is deleted, check references, sync the WAL at every commit
    /// (a contact write is rare, and must survive a power cut once the chat has moved on).
    private static func configure(_ database: SQLiteDatabase) throws(SQLiteError) {
        try database.execute("PRAGMA secure_delete = ON; PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL")
    }

    private static func readKeyRecord(_ database: SQLiteDatabase, name: String) throws -> KeyRecord {
        let statement = try database.prepare("SELECT salt, opslimit, memlimit, box FROM keyring WHERE id = 1")
        guard try statement.step() else { throw ProfileError.damaged(name: name, detail: "its key record is missing") }
        let operations = statement.integer(at: 1), memory = statement.integer(at: 2)
        guard operations > 0, memory > 0 else { throw ProfileError.damaged(name: name, detail: "its key record is malformed") }
        let record = KeyRecord(salt: statement.blob(at: 0), limits: Argon2id.Limits(operations: UInt64(operations), memoryBytes: UInt64(memory)),
                               box: statement.blob(at: 3))
        guard record.limits.isAcceptable, record.salt.count == Argon2id.saltCount else {
            throw ProfileError.damaged(name: name, detail: "its key record asks for passphrase-hash limits out of range")
        }
        return record
    }

    private static let identityAD = SealedRow.associatedData(place: "identity", key: [])

    private static func sealIdentity(_ identity: IdentityKeyPair, keys: ProfileKeys) -> [UInt8] {
        SealedRow.seal(identity.seed, key: keys.rowKey, associatedData: identityAD)
    }

    private static func readIdentity(_ database: SQLiteDatabase, keys: ProfileKeys, name: String) throws -> IdentityKeyPair {
        let statement = try database.prepare("SELECT box FROM identity WHERE id = 1")
        guard try statement.step() else { throw ProfileError.damaged(name: name, detail: "its identity record is missing") }
        guard let seed = try? SealedRow.openSecret(statement.blob(at: 0), key: keys.rowKey, associatedData: identityAD),
              let identity = try? IdentityKeyPair(seed: seed)
        else { throw ProfileError.damaged(name: name, detail: "its identity record failed to authenticate") }
        return identity
    }

    private static func readContacts(_ database: SQLiteDatabase, keys: ProfileKeys, name: String) throws -> [KnownMembers.Contact] {
        let statement = try database.prepare("SELECT handle, box FROM contacts")
        var contacts: [KnownMembers.Contact] = []
        while try statement.step() {
            let handle = statement.blob(at: 0)
            guard let plaintext = try? SealedRow.open(statement.blob(at: 1), key: keys.rowKey, associatedData: contactAD(handle)) else {
                throw ProfileError.damaged(name: name, detail: "a contact record failed to authenticate")
            }
            // Authentic, so written by this profile's key: a mismatch is a bug, not an attack, but still refused.
            guard let contact = ContactRecord.decode(plaintext), keys.handle(of: contact.identity) == handle else {
                throw ProfileError.damaged(name: name, detail: "a contact record is malformed")
            }
            contacts.append(contact)
        }
        return contacts
    }

    static func contactAD(_ handle: [UInt8]) -> [UInt8] { SealedRow.associatedData(place: "contacts", key: handle) }

    // MARK: - Writing

    /// Writes a change of the known members through (`KnownMembers(contacts:persist:)`).
    public func apply(_ change: KnownMembers.Change) throws(ProfileError) {
        switch change {
        case .updated(let contact): try save(contact)
        case .forgotten(let identity): try forget(identity)
        }
    }

    /// Inserts or replaces the contact with this identity key.
    public func save(_ contact: KnownMembers.Contact) throws(ProfileError) {
        let handle = keys.handle(of: contact.identity)
        let box = SealedRow.seal(ContactRecord.encode(contact), key: keys.rowKey, associatedData: Self.contactAD(handle))
        try locked {
            try database.run(
                "INSERT INTO contacts (handle, box) VALUES (?, ?) ON CONFLICT (handle) DO UPDATE SET box = excluded.box",
                [.blob(handle), .blob(box)])
        }
    }

    /// Deletes the contact and its private history, then vacuums and truncates the WAL so
    /// that no copy of its rows is left in the files (`secure_delete` zeroes freed pages;
    /// vacuum also shrinks).
    public func forget(_ identity: IdentityKey) throws(ProfileError) {
        try locked {
            try database.run("DELETE FROM contacts WHERE handle = ?", [.blob(keys.handle(of: identity))])
            try database.run("DELETE FROM history WHERE handle = ?", [.blob(keys.handle(of: .peer(identity)))])
            try scrub()
        }
    }

    /// Wraps the master key under `passphrase` with a fresh salt: the rows stay as they are.
    public func changePassphrase(to passphrase: SecretBytes, limits: Argon2id.Limits = .moderate) throws(ProfileError) {
        try locked {
            let record = try KeyRecord(wrapping: master, passphrase: passphrase, limits: limits)
            try database.run(
                "UPDATE keyring SET salt = ?, opslimit = ?, memlimit = ?, box = ? WHERE id = 1",
                [.blob(record.salt), .integer(Int64(record.limits.operations)), .integer(Int64(record.limits.memoryBytes)), .blob(record.box)])
            // The old wrapping opens with the old passphrase: leave no copy of it.
            try scrub()
        }
    }

    func scrub() throws {
        try database.execute("VACUUM")
        try database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }

    func locked<R>(_ body: () throws -> R) throws(ProfileError) -> R {
        try Self.guarded(name) {
            try mutex.withLock { try body() }
        }
    }

    /// Every failure as a `ProfileError`: SQLite's "not a database" and "corrupt" are damage.
    static func guarded<R>(_ name: String, _ body: () throws -> R) throws(ProfileError) -> R {
        do {
            return try body()
        } catch let error as ProfileError {
            throw error
        } catch let error as SQLiteError {
            throw error.isDamage ? .damaged(name: name, detail: error.message) : .storage(name: name, detail: error.description)
        } catch CryptoError.outOfMemory {
            throw .storage(name: name, detail: "not enough memory for the passphrase hash")
        } catch {
            throw .storage(name: name, detail: "\(error)")
        }
    }
}
