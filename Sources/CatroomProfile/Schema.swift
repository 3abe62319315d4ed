/// The profile's tables and how each older version is brought up to date
/// (docs/profile-format.md §4). `PRAGMA user_version` holds the version.
enum Schema {
    /// `steps[n]` takes a file from version n to n + 1; the current version is their number.
    static let steps: [String] = [
        // 0 → 1: the key record, the identity and the contacts. Every content column is a
        // sealed box; the contacts' key is a blinded handle.
        """
        CREATE TABLE keyring (id INTEGER PRIMARY KEY CHECK (id = 1), salt BLOB NOT NULL,
                              opslimit INTEGER NOT NULL, memlimit INTEGER NOT NULL, box BLOB NOT NULL);
        CREATE TABLE identity (id INTEGER PRIMARY KEY CHECK (id = 1), box BLOB NOT NULL);
        CREATE TABLE contacts (handle BLOB PRIMARY KEY, box BLOB NOT NULL) WITHOUT ROWID;
        """,
        // 1 → 2: the settings (no row: history off) and the message history, each row keyed
        // by its id and its conversation's blinded handle; time and content are sealed.
        """
        CREATE TABLE settings (id INTEGER PRIMARY KEY CHECK (id = 1), box BLOB NOT NULL);
        CREATE TABLE history (id INTEGER PRIMARY KEY, handle BLOB NOT NULL, box BLOB NOT NULL);
        CREATE INDEX history_by_handle ON history (handle, id);
        """,
    ]

    static var current: Int64 { Int64(steps.count) }

    /// Runs every step after `version`, each with its new `user_version`, inside the
    /// caller's transaction: a failure leaves the file at the version it had.
    static func migrate(_ database: SQLiteDatabase, from version: Int64, steps: [String] = steps) throws(SQLiteError) {
        guard version < Int64(steps.count) else { return }
        for next in Int(version)..<steps.count {
            try database.execute(steps[next])
            try database.execute("PRAGMA user_version = \(next + 1)")
        }
    }
}
