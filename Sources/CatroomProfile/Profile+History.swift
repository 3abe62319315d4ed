import CatroomCrypto
import Foundation

/// The settings and the message history (docs/profile-format.md §3.4, §3.5).
extension Profile {
    // MARK: - Settings

    static let settingsAD = SealedRow.associatedData(place: "settings", key: [])

    static func writeSettings(_ settings: ProfileSettings, database: SQLiteDatabase, keys: ProfileKeys) throws(SQLiteError) {
        let box = SealedRow.seal(settings.encode(), key: keys.rowKey, associatedData: settingsAD)
        try database.run("INSERT INTO settings (id, box) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET box = excluded.box", [.blob(box)])
    }

    /// No row: the defaults (a version-1 file has none).
    static func readSettings(_ database: SQLiteDatabase, keys: ProfileKeys, name: String) throws -> ProfileSettings {
        let statement = try database.prepare("SELECT box FROM settings WHERE id = 1")
        guard try statement.step() else { return ProfileSettings() }
        guard let plaintext = try? SealedRow.open(statement.blob(at: 0), key: keys.rowKey, associatedData: settingsAD),
              let settings = ProfileSettings.decode(plaintext)
        else { throw ProfileError.damaged(name: name, detail: "its settings record failed to authenticate") }
        return settings
    }

    /// Writes `settings`. Turning history off deletes all of it; a shorter keep deletes
    /// what is now older, as of `now`.
    public func changeSettings(_ settings: ProfileSettings, now: Date = Date()) throws(ProfileError) {
        try locked {
            try database.transaction {
                try Self.writeSettings(settings, database: database, keys: keys)
                if !settings.history { try database.run("DELETE FROM history") }
            }
            storedSettings = settings
            if !settings.history { try scrub() }
        }
        try pruneHistory(now: now)
    }

    // MARK: - History

    /// label ‖ u8 7 ‖ "history" ‖ u64 row id ‖ handle: a box moved to another row or
    /// another conversation fails to authenticate.
    static func historyAD(id: Int64, handle: [UInt8]) -> [UInt8] {
        SealedRow.associatedData(place: "history", key: SealedRow.bigEndian(UInt64(bitPattern: id)) + handle)
    }

    /// Appends `entry` to `conversation`'s history, durably (whatever the settings say:
    /// the caller records only when they allow it).
    public func appendHistory(_ entry: HistoryEntry, to conversation: Conversation) throws(ProfileError) {
        let handle = keys.handle(of: conversation)
        let plaintext = HistoryRecord.encode(entry)
        try locked {
            try database.transaction {
                // Ids only grow, so their order is the order of writing.
                let id = try database.integer("SELECT coalesce(max(id), 0) + 1 FROM history")
                let box = SealedRow.seal(plaintext, key: keys.rowKey, associatedData: Self.historyAD(id: id, handle: handle))
                try database.run("INSERT INTO history (id, handle, box) VALUES (?, ?, ?)", [.integer(id), .blob(handle), .blob(box)])
            }
        }
    }

    /// `conversation`'s history, oldest first: the last `limit` entries, or all.
    public func history(of conversation: Conversation, limit: Int? = nil) throws(ProfileError) -> [HistoryEntry] {
        let handle = keys.handle(of: conversation)
        return try locked {
            let statement = try database.prepare("SELECT id, box FROM history WHERE handle = ? ORDER BY id DESC LIMIT ?")
            try statement.bind([.blob(handle), .integer(Int64(limit ?? -1))])
            var entries: [HistoryEntry] = []
            while try statement.step() {
                entries.append(try openHistory(id: statement.integer(at: 0), handle: handle, box: statement.blob(at: 1)))
            }
            return entries.reversed()
        }
    }

    /// Deletes `conversation`'s history and scrubs the files; the number of entries deleted.
    @discardableResult
    public func deleteHistory(of conversation: Conversation) throws(ProfileError) -> Int {
        try locked {
            try database.run("DELETE FROM history WHERE handle = ?", [.blob(keys.handle(of: conversation))])
            let count = Int(try database.integer("SELECT changes()"))
            if count > 0 { try scrub() }
            return count
        }
    }

    /// Deletes every entry older than the settings keep, as of `now`, and scrubs the files
    /// if any went; the number deleted. Times are sealed, so every row is opened.
    @discardableResult
    public func pruneHistory(now: Date = Date()) throws(ProfileError) -> Int {
        guard let keep = settings.keepSeconds else { return 0 }
        let cutoff = now.addingTimeInterval(-TimeInterval(keep))
        return try locked {
            var old: [Int64] = []
            let statement = try database.prepare("SELECT id, handle, box FROM history ORDER BY id")
            while try statement.step() {
                let id = statement.integer(at: 0)
                if try openHistory(id: id, handle: statement.blob(at: 1), box: statement.blob(at: 2)).time < cutoff { old.append(id) }
            }
            guard !old.isEmpty else { return 0 }
            try database.transaction {
                for id in old { try database.run("DELETE FROM history WHERE id = ?", [.integer(id)]) }
            }
            try scrub()
            return old.count
        }
    }

    private func openHistory(id: Int64, handle: [UInt8], box: [UInt8]) throws -> HistoryEntry {
        guard let plaintext = try? SealedRow.open(box, key: keys.rowKey, associatedData: Self.historyAD(id: id, handle: handle)) else {
            throw ProfileError.damaged(name: name, detail: "a history record failed to authenticate")
        }
        // Authentic, so written by this profile's key: malformed is a bug, but still refused.
        guard let entry = HistoryRecord.decode(plaintext) else { throw ProfileError.damaged(name: name, detail: "a history record is malformed") }
        return entry
    }
}
