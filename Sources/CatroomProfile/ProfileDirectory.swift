import Foundation

/// Where profiles live: `$XDG_DATA_HOME/catroom/profiles` (by default
/// `~/.local/share/catroom/profiles`), mode 0700, with NAME.db (0600), its -wal and -shm,
/// and NAME.lock beside it.
public struct ProfileDirectory: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> ProfileDirectory {
        let base = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? ((environment["HOME"] ?? ".") + "/.local/share")
        return ProfileDirectory(path: base + "/catroom/profiles")
    }

    /// Profile names are `[a-z0-9][a-z0-9._-]{0,31}`: safe as file names, and never hidden files.
    public static func validate(_ name: String) throws(ProfileError) {
        let bytes = Array(name.utf8)
        let allowed = { (byte: UInt8) in (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
        guard (1...32).contains(bytes.count), allowed(bytes[0]),
              bytes.allSatisfy({ allowed($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") })
        else { throw .invalidName(name) }
    }

    func databasePath(_ name: String) -> String { "\(path)/\(name).db" }
    func lockPath(_ name: String) -> String { "\(path)/\(name).lock" }
    /// The database and what SQLite keeps beside it.
    func files(_ name: String) -> [String] { ["", "-wal", "-shm"].map { databasePath(name) + $0 } }

    /// Makes an empty NAME.db, 0600, so that SQLite (whose -wal and -shm take its mode)
    /// never makes it readable by others.
    func createDatabaseFile(_ name: String) throws(ProfileError) {
        let descriptor = open(databasePath(name), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            if errno == EEXIST { throw .exists(name) }
            throw .storage(name: name, detail: "cannot create \(databasePath(name)): \(String(cString: strerror(errno)))")
        }
        close(descriptor)
    }

    public func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: databasePath(name)) }

    /// Creates the directory (and its parents) if missing, and keeps it 0700.
    func prepare() throws(ProfileError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .storage(name: path, detail: "cannot create the profile directory: \(error.localizedDescription)")
        }
        guard chmod(path, 0o700) == 0 else { throw .storage(name: path, detail: "cannot make the profile directory private: \(String(cString: strerror(errno)))") }
    }

    /// A profile as `catroom profile list` shows it: no passphrase needed, nothing decrypted.
    public struct Entry: Sendable, Equatable {
        public let name: String
        /// The database with its -wal and -shm.
        public let bytes: Int
        public let modified: Date
    }

    /// Every profile here, by name; none if the directory does not exist.
    public func list() -> [Entry] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.compactMap { file -> Entry? in
            guard file.hasSuffix(".db") else { return nil }
            let name = String(file.dropLast(3))
            guard (try? Self.validate(name)) != nil else { return nil }
            let attributes = files(name).compactMap { try? FileManager.default.attributesOfItem(atPath: $0) }
            let bytes = attributes.reduce(0) { $0 + (($1[.size] as? NSNumber)?.intValue ?? 0) }
            let modified = attributes.compactMap { $0[.modificationDate] as? Date }.max() ?? Date(timeIntervalSince1970: 0)
            return Entry(name: name, bytes: bytes, modified: modified)
        }.sorted { $0.name < $1.name }
    }

    /// Removes the profile's database, -wal, -shm and lock; refused while another process holds it.
    public func delete(_ name: String) throws(ProfileError) {
        try Self.validate(name)
        guard exists(name) else { throw .notFound(name) }
        let lock = try ProfileLock(path: lockPath(name), name: name)
        for file in files(name) where unlink(file) != 0 && errno != ENOENT {
            throw .storage(name: name, detail: "cannot remove \(file): \(String(cString: strerror(errno)))")
        }
        unlink(lockPath(name))
        withExtendedLifetime(lock) {}
    }
}
