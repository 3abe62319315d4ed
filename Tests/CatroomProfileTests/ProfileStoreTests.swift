import CatroomClient
import CatroomCrypto
import Foundation
import Testing
@testable import CatroomProfile

@Suite struct ProfileStoreTests {
    @Test func keepsTheIdentityAndContactsAcrossOpenings() throws {
        let fixture = try ProfileFixture()
        let alice = ProfileFixture.contact("alice", verified: true), bob = ProfileFixture.contact("bob"), nameless = ProfileFixture.contact(nil)
        let identity: IdentityKey
        do {
            let profile = try fixture.create()
            identity = profile.identity.publicKey
            for contact in [alice, bob, nameless] { try profile.save(contact) }
            var renamed = bob
            renamed.name = "bobby"
            try profile.save(renamed)
        }
        let reopened = try fixture.open()
        #expect(reopened.identity.publicKey == identity)
        #expect(reopened.openedVersion == Schema.current)
        var bobby = bob
        bobby.name = "bobby"
        let byName = { (a: KnownMembers.Contact, b: KnownMembers.Contact) in (a.name ?? "") < (b.name ?? "") }
        #expect(reopened.contacts.sorted(by: byName) == [nameless, alice, bobby].sorted(by: byName))
    }

    @Test func aWrongPassphraseChangesNoByte() throws {
        let fixture = try ProfileFixture()
        do { try fixture.create().save(ProfileFixture.contact("alice")) }
        let before = fixture.files()
        #expect(throws: ProfileError.wrongPassphrase(fixture.name)) { try fixture.open("Correct horse battery staple") }
        #expect(fixture.files() == before)
        #expect(try fixture.open().contacts.count == 1)
    }

    @Test func refusesASecondOpeningWhileOneHoldsIt() throws {
        let fixture = try ProfileFixture()
        let identity: IdentityKey
        do {
            let first = try fixture.create()
            identity = first.identity.publicKey
            #expect(throws: ProfileError.inUse(fixture.name)) { try fixture.open() }
            #expect(throws: ProfileError.inUse(fixture.name)) { try fixture.directory.delete(fixture.name) }
        }
        #expect(try fixture.open().identity.publicKey == identity)
    }

    @Test func aContactMovedToAnotherRowFailsToAuthenticate() throws {
        let fixture = try ProfileFixture()
        do {
            let profile = try fixture.create()
            try profile.save(ProfileFixture.contact("alice"))
            try profile.save(ProfileFixture.contact("bob"))
        }
        try fixture.tamper("UPDATE contacts SET box = (SELECT box FROM contacts ORDER BY handle DESC LIMIT 1) WHERE handle = (SELECT min(handle) FROM contacts)")
        #expect(throws: ProfileError.damaged(name: fixture.name, detail: "a contact record failed to authenticate")) { try fixture.open() }
    }

    @Test func theIdentityBoxDoesNotOpenAsAContact() throws {
        let fixture = try ProfileFixture()
        do { try fixture.create().save(ProfileFixture.contact("alice")) }
        try fixture.tamper("UPDATE contacts SET box = (SELECT box FROM identity)")
        #expect(throws: ProfileError.damaged(name: fixture.name, detail: "a contact record failed to authenticate")) { try fixture.open() }
    }

    @Test func aFlippedBitInTheIdentityIsDamage() throws {
        let fixture = try ProfileFixture()
        do { _ = try fixture.create() }
        try flipBit(fixture, table: "identity")
        #expect(throws: ProfileError.damaged(name: fixture.name, detail: "its identity record failed to authenticate")) { try fixture.open() }
    }

    @Test func aFlippedBitInTheKeyRecordReadsAsAWrongPassphrase() throws {
        let fixture = try ProfileFixture()
        do { _ = try fixture.create() }
        try flipBit(fixture, table: "keyring")
        #expect(throws: ProfileError.wrongPassphrase(fixture.name)) { try fixture.open() }
    }

    @Test(arguments: [0, 1, 100, 4096, 8192])
    func aTruncatedFileIsDamage(length: Int) throws {
        let fixture = try ProfileFixture()
        do {
            let profile = try fixture.create()
            for index in 0..<40 { try profile.save(ProfileFixture.contact("member\(index)")) }
        }
        let size = try #require(fixture.files()[0]).count
        #expect(size > 8192)
        #expect(truncate(fixture.databasePath, off_t(length)) == 0)
        #expect {
            try fixture.open()
        } throws: { error in
            guard case ProfileError.damaged = error else { return false }
            return true
        }
    }

    @Test func garbageInPlaceOfTheHeaderIsNotAProfile() throws {
        let fixture = try ProfileFixture()
        do { _ = try fixture.create() }
        let handle = try #require(FileHandle(forUpdatingAtPath: fixture.databasePath))
        try handle.write(contentsOf: Data(repeating: 0x5a, count: 100))
        try handle.close()
        #expect(throws: ProfileError.damaged(name: fixture.name, detail: "file is not a database")) { try fixture.open() }
    }

    @Test func forgettingLeavesNoCopyOfTheRowInTheFiles() throws {
        let fixture = try ProfileFixture()
        let profile = try fixture.create()
        let alice = ProfileFixture.contact("alice"), bob = ProfileFixture.contact("bob")
        try profile.save(alice)
        try profile.save(bob)
        let box = try #require(try boxes(fixture).first)
        try profile.forget(alice.identity)
        try profile.forget(bob.identity)
        #expect(!fixture.files().contains { $0?.contains(box) == true })
        withExtendedLifetime(profile) {}
    }

    @Test func aNewPassphraseRewrapsTheMasterKeyAndWipesTheOldWrapping() throws {
        let fixture = try ProfileFixture()
        let identity: IdentityKey
        let oldWrapping: [UInt8]
        do {
            let profile = try fixture.create("old passphrase")
            identity = profile.identity.publicKey
            try profile.save(ProfileFixture.contact("alice"))
            oldWrapping = try keyringBox(fixture)
            try profile.changePassphrase(to: ProfileFixture.passphrase("new passphrase"), limits: .minimum)
            #expect(!fixture.files().contains { $0?.contains(oldWrapping) == true })
        }
        #expect(throws: ProfileError.wrongPassphrase(fixture.name)) { try fixture.open("old passphrase") }
        let reopened = try fixture.open("new passphrase")
        #expect(reopened.identity.publicKey == identity && reopened.contacts.count == 1)
    }

    @Test func createRefusesAnExistingProfileAndLeavesItAlone() throws {
        let fixture = try ProfileFixture()
        do { _ = try fixture.create() }
        let before = fixture.files()
        #expect(throws: ProfileError.exists(fixture.name)) { try fixture.create() }
        #expect(fixture.files() == before)
    }

    @Test func filesArePrivate() throws {
        let fixture = try ProfileFixture()
        let profile = try fixture.create()
        try profile.save(ProfileFixture.contact("alice"))
        var status = stat()
        #expect(stat(fixture.directory.path, &status) == 0 && status.st_mode & 0o777 == 0o700)
        for path in fixture.directory.files(fixture.name) + [fixture.directory.lockPath(fixture.name)] where stat(path, &status) == 0 {
            #expect(status.st_mode & 0o777 == 0o600, "\(path)")
        }
        withExtendedLifetime(profile) {}
    }

    @Test(arguments: ["", "Alice", ".hidden", "-x", "a/b", "a b", String(repeating: "a", count: 33), "é"])
    func refusesNamesThatAreNotProfileNames(name: String) {
        #expect(throws: ProfileError.invalidName(name)) { try ProfileDirectory.validate(name) }
    }

    @Test(arguments: ["a", "alice", "work.2026", "x_y-z", String(repeating: "a", count: 32)])
    func acceptsProfileNames(name: String) throws {
        try ProfileDirectory.validate(name)
    }

    private func boxes(_ fixture: ProfileFixture) throws -> [[UInt8]] {
        let database = try SQLiteDatabase(path: fixture.databasePath, create: false)
        let statement = try database.prepare("SELECT box FROM contacts")
        var boxes: [[UInt8]] = []
        while try statement.step() { boxes.append(statement.blob(at: 0)) }
        return boxes
    }

    private func flipBit(_ fixture: ProfileFixture, table: String) throws {
        let database = try SQLiteDatabase(path: fixture.databasePath, create: false)
        let statement = try database.prepare("SELECT box FROM \(table)")
        _ = try statement.step()
        var box = statement.blob(at: 0)
        box[box.count / 2] ^= 1
        try database.run("UPDATE \(table) SET box = ?", [.blob(box)])
    }

    private func keyringBox(_ fixture: ProfileFixture) throws -> [UInt8] {
        let database = try SQLiteDatabase(path: fixture.databasePath, create: false)
        let statement = try database.prepare("SELECT box FROM keyring")
        _ = try statement.step()
        return statement.blob(at: 0)
    }
}

@Suite struct ContactRecordTests {
    @Test func decodesWhatItEncodesAndNothingElse() throws {
        let contact = ProfileFixture.contact("zoë", verified: true)
        let bytes = ContactRecord.encode(contact)
        #expect(bytes.count == ContactRecord.block)
        #expect(ContactRecord.decode(bytes) == contact)
        var padded = bytes
        padded[padded.count - 1] = 1
        #expect(ContactRecord.decode(padded) == nil)
        var farFuture = bytes
        farFuture[33] = 0x7f
        #expect(ContactRecord.decode(farFuture) == nil)
        #expect(ContactRecord.decode(Array(bytes.prefix(64))) == nil)
        #expect(ContactRecord.encode(ProfileFixture.contact(String(repeating: "a", count: 68))).count == ContactRecord.block)
        #expect(ContactRecord.encode(ProfileFixture.contact(String(repeating: "a", count: 69))).count == 2 * ContactRecord.block)
    }

    /// Found by the `profile` fuzz target: a time under an unset verified flag was read and dropped.
    @Test func refusesAVerifiedTimeWithoutTheVerifiedFlag() {
        var bytes = ContactRecord.encode(ProfileFixture.contact("bob", verified: false))
        #expect(ContactRecord.decode(bytes) != nil)
        bytes[57] = 1
        #expect(ContactRecord.decode(bytes) == nil)
    }
}
