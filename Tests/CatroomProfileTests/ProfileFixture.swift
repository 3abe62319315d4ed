import CatroomClient
import CatroomCrypto
import Foundation
@testable import CatroomProfile

/// A profile directory of its own under the temporary directory, removed at the end.
final class ProfileFixture {
    let directory: ProfileDirectory
    let name = "test"

    init() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("catroom-profile-\(UUID().uuidString)").path
        directory = ProfileDirectory(path: path + "/profiles")
    }

    deinit { try? FileManager.default.removeItem(atPath: (directory.path as NSString).deletingLastPathComponent) }

    var databasePath: String { directory.databasePath(name) }

    static func passphrase(_ text: String = "correct horse battery staple") -> SecretBytes {
        SecretBytes(copying: Array(text.utf8))
    }

    func create(_ passphrase: String = "correct horse battery staple") throws -> Profile {
        try Profile.create(name, in: directory, passphrase: Self.passphrase(passphrase), limits: .minimum)
    }

    func open(_ passphrase: String = "correct horse battery staple") throws(ProfileError) -> Profile {
        try Profile.open(name, in: directory, passphrase: Self.passphrase(passphrase))
    }

    /// The bytes of the database and of its -wal and -shm, as they are now.
    func files() -> [Data?] { directory.files(name).map { FileManager.default.contents(atPath: $0) } }

    /// Runs `sql` on the file directly, as an attacker with write access could.
    func tamper(_ sql: String) throws {
        let database = try SQLiteDatabase(path: databasePath, create: false)
        try database.execute(sql)
    }

    static func contact(_ name: String?, verified: Bool = false, seconds: TimeInterval = 1_790_000_000) -> KnownMembers.Contact {
        KnownMembers.Contact(
            identity: IdentityKeyPair.generate().publicKey, name: name,
            verified: verified ? Date(timeIntervalSince1970: seconds + 60) : nil,
            firstSeen: Date(timeIntervalSince1970: seconds), lastSeen: Date(timeIntervalSince1970: seconds + 120))
    }
}

extension Data {
    func contains(_ bytes: [UInt8]) -> Bool { range(of: Data(bytes)) != nil }
}
