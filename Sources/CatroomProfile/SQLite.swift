import CSQLite

/// A thin layer over the system libsqlite3: open, execute, prepare, bind, step, finalize.
///
/// The profile runs a dozen fixed statements over opaque sealed blobs, so it needs no
/// query builder and no record mapping (docs/architecture.md, "Profiles"). Every failure
/// carries SQLite's own code and message.
final class SQLiteDatabase {
    private let handle: OpaquePointer

    /// Opens the database file at `path` read-write (creating it only if `create`).
    init(path: String, create: Bool) throws(SQLiteError) {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_FULLMUTEX
        let status = sqlite3_open_v2(path, &handle, flags, nil)
        guard status == SQLITE_OK, let handle else {
            let error = SQLiteError(code: status, message: handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open")
            sqlite3_close_v2(handle)
            throw error
        }
        self.handle = handle
        sqlite3_extended_result_codes(handle, 1)
    }

    deinit { sqlite3_close_v2(handle) }

    /// Runs `sql`, which may hold several statements and returns no rows that matter.
    func execute(_ sql: String) throws(SQLiteError) {
        try check(sqlite3_exec(handle, sql, nil, nil, nil))
    }

    func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        var statement: OpaquePointer?
        try check(sqlite3_prepare_v2(handle, sql, -1, &statement, nil))
        guard let statement else { throw SQLiteError(code: SQLITE_MISUSE, message: "empty statement") }
        return SQLiteStatement(statement, database: self)
    }

    /// Runs `sql` with `values` bound to its parameters, stepping it to the end.
    func run(_ sql: String, _ values: [SQLiteValue] = []) throws(SQLiteError) {
        let statement = try prepare(sql)
        try statement.bind(values)
        while try statement.step() {}
    }

    /// `body` in one `BEGIN IMMEDIATE … COMMIT`, rolled back if it throws.
    func transaction<R>(_ body: () throws -> R) throws -> R {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// One integer from a query such as `PRAGMA user_version`.
    func integer(_ sql: String) throws(SQLiteError) -> Int64 {
        let statement = try prepare(sql)
        guard try statement.step() else { throw SQLiteError(code: SQLITE_ERROR, message: "no result for \(sql)") }
        return statement.integer(at: 0)
    }

    fileprivate func check(_ status: Int32) throws(SQLiteError) {
        guard status == SQLITE_OK || status == SQLITE_ROW || status == SQLITE_DONE else {
            throw SQLiteError(code: status, message: String(cString: sqlite3_errmsg(handle)))
        }
    }
}

/// A value bound to a statement's parameter.
enum SQLiteValue {
    case integer(Int64)
    case blob([UInt8])
    case text(String)
}

/// A prepared statement, finalized when released.
final class SQLiteStatement {
    private let handle: OpaquePointer
    private let database: SQLiteDatabase

    fileprivate init(_ handle: OpaquePointer, database: SQLiteDatabase) {
        self.handle = handle
        self.database = database
    }

    deinit { sqlite3_finalize(handle) }

    /// Binds `values` to parameters 1, 2, … (SQLite copies them: `SQLITE_TRANSIENT`).
    func bind(_ values: [SQLiteValue]) throws(SQLiteError) {
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (index, value) in values.enumerated() {
            let position = Int32(index + 1)
            let status: Int32 = switch value {
            case .integer(let integer): sqlite3_bind_int64(handle, position, integer)
            case .blob(let bytes): bytes.withUnsafeBytes { sqlite3_bind_blob64(handle, position, $0.baseAddress, UInt64($0.count), transient) }
            case .text(let text): sqlite3_bind_text(handle, position, text, -1, transient)
            }
            try database.check(status)
        }
    }

    /// Advances to the next row: true if there is one, false when done.
    func step() throws(SQLiteError) -> Bool {
        let status = sqlite3_step(handle)
        try database.check(status)
        return status == SQLITE_ROW
    }

    func integer(at column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    /// The column's bytes; empty for NULL or an empty blob.
    func blob(at column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let bytes = sqlite3_column_blob(handle, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }
}

/// A failure reported by SQLite: its (extended) result code and message.
struct SQLiteError: Error, CustomStringConvertible {
    let code: Int32
    let message: String

    /// The file is not a database, is damaged (`SQLITE_NOTADB`, `SQLITE_CORRUPT` and their
    /// extended codes), or lacks what the fixed statements expect (`SQLITE_ERROR`: no such table).
    var isDamage: Bool { [SQLITE_NOTADB, SQLITE_CORRUPT, SQLITE_ERROR].contains(code & 0xff) }
    /// Another connection holds the database (`SQLITE_BUSY`, `SQLITE_LOCKED`).
    var isBusy: Bool { code & 0xff == SQLITE_BUSY || code & 0xff == SQLITE_LOCKED }

    var description: String { "\(message) (SQLite error \(code))" }
}
