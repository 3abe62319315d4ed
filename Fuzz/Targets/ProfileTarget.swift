#if CATROOM_FUZZ_CLIENT
import CatroomClient
import CatroomCrypto
@testable import CatroomProfile
import Foundation

// Profile files (docs/profile-format.md) as someone with write access to them, but not the
// passphrase, could leave them. The first byte chooses:
//   even  the rest is a row's plaintext, read as a contact (§3.3), the settings (§3.4) and a
//         history entry (§3.5): each decodes only what its encoder writes, byte for byte;
//   odd   up to 16 changes to a genuine profile's files, each a byte `c` and its operands,
//         after which the profile is opened with its passphrase:
//           c % 8 == 0  a row's sealed box replaced with input bytes;
//           c % 8 == 1  one bit of a row's box flipped;
//           c % 8 == 2  a row deleted;
//           c % 8 == 3  two rows' boxes swapped (one moved onto another's place);
//           c % 8 == 4  a history row given another row's handle or id;
//           c % 8 == 5  a column set to NULL, an integer or text;
//           c % 8 == 6  the key record's limits or the schema version changed;
//           c % 8 == 7  a byte of the database file overwritten (after the others).
//         The table is `c >> 3 % 5`: keyring, identity, contacts, settings, history.
// Invariants of the opened profile: it fails with a `ProfileError` (typed throws: nothing
// else can come out), or it has the genuine identity, only genuine contacts, the genuine
// settings or (their row deleted) the defaults, and reading each conversation gives a
// `ProfileError` or a subsequence of its genuine entries, in order.

extension FuzzTarget {
    static let profile = FuzzTarget(name: "profile") { bytes in
        var input = FuzzInput(Array(bytes))
        if input.byte() % 2 == 0 {
            ProfileWorld.checkRecords(input.remaining())
        } else {
            ProfileWorld.shared.checkFile(&input)
        }
    } seeds: {
        ProfileWorld.seeds
    }
}

/// A genuine profile made once, whose files each input starts from.
final class ProfileWorld: Sendable {
    static let shared = ProfileWorld()

    static let name = "fuzz"
    static let passphrase = "correct horse battery staple"
    static let tables = ["keyring", "identity", "contacts", "settings", "history"]
    static let date = Date(timeIntervalSince1970: 1_795_330_800)

    let identity: IdentityKeyPair
    let contacts: [KnownMembers.Contact]
    let settings = ProfileSettings(history: true, keepSeconds: nil)
    let history: [Conversation: [HistoryEntry]]
    /// The database, -wal and -shm files as the genuine profile left them (nil: absent).
    let files: [[UInt8]?]
    /// Where each input's copy goes.
    let directory: ProfileDirectory

    private init() {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("catroom-fuzz-profile-\(getpid())").path
        let pristine = ProfileDirectory(path: root + "/pristine")
        directory = ProfileDirectory(path: root + "/work")
        var entropy = FuzzEntropy(label: "profile")
        func pair() -> IdentityKeyPair {
            guard let pair = try? IdentityKeyPair(seed: SecretBytes(count: 32) { entropy.fill($0) }) else { fatalError("no key pair from a seed") }
            return pair
        }
        identity = pair()
        let keys = [pair().publicKey, pair().publicKey]
        contacts = [
            KnownMembers.Contact(identity: keys[0], name: "bob", verified: Self.date, firstSeen: Self.date, lastSeen: Self.date),
            KnownMembers.Contact(identity: keys[1], name: nil, verified: nil, firstSeen: Self.date, lastSeen: Self.date.addingTimeInterval(60)),
        ]
        history = [
            .room("lobby@rooms.example.org"): ["hello", "the plan is at noon", "bye"].map {
                HistoryEntry(kind: .message, time: Self.date, sender: keys[0], name: "bob", text: $0)
            },
            .peer(keys[0]): [
                HistoryEntry(kind: .privateIn, time: Self.date, sender: keys[0], name: "bob", text: "psst"),
                HistoryEntry(kind: .privateOut, time: Self.date, sender: nil, name: "me", text: "yes?"),
            ],
        ]
        do {
            let profile = try Profile.create(
                Self.name, in: pristine, passphrase: Self.secret, limits: .minimum, identity: identity, settings: settings)
            for contact in contacts { try profile.apply(.updated(contact)) }
            for (conversation, entries) in history.sorted(by: { "\($0.key)" < "\($1.key)" }) {
                for entry in entries { try profile.appendHistory(entry, to: conversation) }
            }
        } catch {
            fatalError("the genuine profile could not be made: \(error)")
        }
        try? directory.prepare()
        files = pristine.files(Self.name).map { FileManager.default.contents(atPath: $0).map { Array($0) } }
    }

    static var secret: SecretBytes { SecretBytes(copying: Array(passphrase.utf8)) }

    // MARK: - Plaintexts

    static func checkRecords(_ bytes: [UInt8]) {
        if let contact = ContactRecord.decode(bytes) {
            invariant(ContactRecord.encode(contact) == bytes, "a contact record decoded from bytes its encoder does not write: \(bytes)")
        }
        if let settings = ProfileSettings.decode(bytes) {
            invariant(settings.encode() == bytes, "settings decoded from bytes their encoder does not write: \(bytes)")
        }
        if let entry = HistoryRecord.decode(bytes) {
            invariant(HistoryRecord.encode(entry) == bytes, "a history entry decoded from bytes its encoder does not write: \(bytes)")
        }
    }

    // MARK: - Files

    func checkFile(_ input: inout FuzzInput) {
        let paths = directory.files(Self.name)
        for (path, bytes) in zip(paths, files) {
            unlink(path)
            if let bytes { FileManager.default.createFile(atPath: path, contents: Data(bytes)) }
        }
        var overwrites: [(offset: Int, value: UInt8)] = []
        if let database = try? SQLiteDatabase(path: paths[0], create: false) {
            for _ in 0..<16 where !input.rest.isEmpty {
                let change = input.byte()
                if change % 8 == 7 {
                    overwrites.append((input.uint16(), input.byte()))
                } else {
                    Self.apply(change, to: database, &input)
                }
            }
        }
        // Closed (above, at the end of its scope) before bytes under SQLite change.
        if let handle = FileHandle(forUpdatingAtPath: paths[0]) {
            for (offset, value) in overwrites {
                try? handle.seek(toOffset: UInt64(offset * 16))
                try? handle.write(contentsOf: Data([value]))
            }
            try? handle.close()
        }
        let opened: Profile
        do {
            opened = try Profile.open(Self.name, in: directory, passphrase: Self.secret, now: Self.date)
        } catch {
            return  // a ProfileError: the only kind `open` throws
        }
        invariant(opened.identity.publicKey == identity.publicKey, "a changed file opened with another identity")
        invariant(opened.contacts.allSatisfy(contacts.contains), "a changed file opened with a contact never written: \(opened.contacts)")
        invariant(opened.settings == settings || opened.settings == ProfileSettings(), "a changed file opened with settings never written: \(opened.settings)")
        for (conversation, genuine) in history {
            guard let read = try? opened.history(of: conversation) else { continue }
            var rest = genuine[...]
            for entry in read {
                guard let index = rest.firstIndex(of: entry) else {
                    return invariant(false, "a changed file showed a history entry out of order or never written: \(entry)")
                }
                rest = rest[(index + 1)...]
            }
        }
    }

    private static func apply(_ change: UInt8, to database: SQLiteDatabase, _ input: inout FuzzInput) {
        let table = tables[Int(change >> 3) % tables.count]
        let key = table == "contacts" ? "handle" : "id"
        let rows = (try? keys(of: table, key: key, in: database)) ?? []
        func row(_ byte: UInt8) -> SQLiteValue? { rows.isEmpty ? nil : rows[Int(byte) % rows.count] }
        switch change % 8 {
        case 0:
            guard let row = row(input.byte()) else { return }
            let count = Int(input.byte())
            try? database.run("UPDATE \(table) SET box = ? WHERE \(key) = ?", [.blob(input.bytes(count)), row])
        case 1:
            guard let row = row(input.byte()), var box = try? blob("box", of: table, key: key, row: row, in: database), !box.isEmpty else { return }
            let bit = input.byte()
            let offset = input.uint16() % box.count
            box[offset] ^= 1 << (bit & 7)
            try? database.run("UPDATE \(table) SET box = ? WHERE \(key) = ?", [.blob(box), row])
        case 2:
            guard let row = row(input.byte()) else { return }
            try? database.run("DELETE FROM \(table) WHERE \(key) = ?", [row])
        case 3:
            guard let first = row(input.byte()), let second = row(input.byte()),
                  let one = try? blob("box", of: table, key: key, row: first, in: database),
                  let other = try? blob("box", of: table, key: key, row: second, in: database) else { return }
            try? database.run("UPDATE \(table) SET box = ? WHERE \(key) = ?", [.blob(other), first])
            try? database.run("UPDATE \(table) SET box = ? WHERE \(key) = ?", [.blob(one), second])
        case 4:
            let history = (try? keys(of: "history", key: "id", in: database)) ?? []
            guard !history.isEmpty else { return }
            let (target, source, what) = (history[Int(input.byte()) % history.count], history[Int(input.byte()) % history.count], input.byte())
            if what % 2 == 0, let handle = try? blob("handle", of: "history", key: "id", row: source, in: database) {
                try? database.run("UPDATE history SET handle = ? WHERE id = ?", [.blob(handle), target])
            } else {
                try? database.run("UPDATE history SET id = ? WHERE id = ?", [.integer(Int64(input.byte()) - 8), target])
            }
        case 5:
            guard let row = row(input.byte()) else { return }
            let columns = table == "keyring" ? ["salt", "opslimit", "memlimit", "box"] : table == "history" ? ["handle", "box"] : ["box"]
            let column = columns[Int(input.byte()) % columns.count]
            let values = ["NULL", "0", "-1", "9223372036854775807", "'text'", "x''"]
            try? database.run("UPDATE \(table) SET \(column) = \(values[Int(input.byte()) % values.count]) WHERE \(key) = ?", [row])
        default:
            // Limits kept small or out of range, so that no input makes the hash take seconds.
            let choice = input.byte()
            let values: [Int64] = [0, -1, 1, 2, 8 << 10, 16 << 10, (8 << 10) - 1, 1 << 40]
            let value = values[Int(input.byte()) % values.count]
            switch choice % 3 {
            case 0: try? database.run("UPDATE keyring SET opslimit = ?", [.integer(value)])
            case 1: try? database.run("UPDATE keyring SET memlimit = ?", [.integer(value)])
            default: try? database.execute("PRAGMA user_version = \(Int(choice >> 2) % 4)")
            }
        }
    }

    private static func keys(of table: String, key: String, in database: SQLiteDatabase) throws(SQLiteError) -> [SQLiteValue] {
        let statement = try database.prepare("SELECT \(key) FROM \(table) ORDER BY \(key)")
        var keys: [SQLiteValue] = []
        while try statement.step() {
            keys.append(key == "handle" ? .blob(statement.blob(at: 0)) : .integer(statement.integer(at: 0)))
        }
        return keys
    }

    private static func blob(_ column: String, of table: String, key: String, row: SQLiteValue, in database: SQLiteDatabase) throws(SQLiteError) -> [UInt8]? {
        let statement = try database.prepare("SELECT \(column) FROM \(table) WHERE \(key) = ?")
        try statement.bind([row])
        return try statement.step() ? statement.blob(at: 0) : nil
    }

    // MARK: - Seeds

    /// Each plaintext the encoders write, and a change of each kind to each table.
    static var seeds: [String: [UInt8]] {
        let world = shared
        var seeds: [String: [UInt8]] = [
            "record-settings": [0] + world.settings.encode(),
            "record-contact": [0] + ContactRecord.encode(world.contacts[0]),
            "record-contact-unnamed": [0] + ContactRecord.encode(world.contacts[1]),
        ]
        for (index, entry) in world.history.values.joined().enumerated() { seeds["record-history-\(index)"] = [0] + HistoryRecord.encode(entry) }
        seeds["file-unchanged"] = [1]
        for (index, table) in tables.enumerated() {
            let c = UInt8(index << 3)
            seeds["file-\(table)-replaced"] = [1, c, 0, 40] + [UInt8](repeating: 0x41, count: 40)
            seeds["file-\(table)-flipped"] = [1, c | 1, 1, 2, 0, 30]
            seeds["file-\(table)-deleted"] = [1, c | 2, 0]
            seeds["file-\(table)-swapped"] = [1, c | 3, 0, 1]
            seeds["file-\(table)-null"] = [1, c | 5, 0, 0, 0]
        }
        seeds["file-history-handle-moved"] = [1, 4, 0, 3, 0]
        seeds["file-history-id-moved"] = [1, 4, 0, 0, 1, 10]
        seeds["file-limits"] = [1, 6, 0, 4, 6, 1, 7]
        seeds["file-version"] = [1, 6, 2, 0]
        seeds["file-byte"] = [1, 7, 0, 6, 0xff]
        return seeds
    }
}
#endif
