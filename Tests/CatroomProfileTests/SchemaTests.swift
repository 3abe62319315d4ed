import Foundation
import Testing
@testable import CatroomProfile

@Suite struct SchemaTests {
    @Test func bringsAnEmptyFileToTheCurrentVersion() throws {
        let fixture = try ProfileFixture()
        try fixture.directory.prepare()
        let database = try SQLiteDatabase(path: fixture.databasePath, create: true)
        try database.transaction { try Schema.migrate(database, from: 0) }
        #expect(try database.integer("PRAGMA user_version") == Schema.current)
        #expect(try database.integer("SELECT count(*) FROM sqlite_schema WHERE name IN ('keyring', 'identity', 'contacts')") == 3)
    }

    @Test func runsALaterStepFromVersionOneAndKeepsTheRows() throws {
        let fixture = try ProfileFixture()
        do { try fixture.create().save(ProfileFixture.contact("alice")) }
        let database = try SQLiteDatabase(path: fixture.databasePath, create: false)
        let next = Schema.steps + ["CREATE TABLE history (id INTEGER PRIMARY KEY, box BLOB NOT NULL)"]
        try database.transaction { try Schema.migrate(database, from: 1, steps: next) }
        #expect(try database.integer("PRAGMA user_version") == 2)
        #expect(try database.integer("SELECT count(*) FROM contacts") == 1)
        // This build knows version 1 only: a file from the future is refused, not misread.
        #expect(throws: ProfileError.newerSchema(name: fixture.name, version: 2)) { try fixture.open() }
    }

    @Test func aFailingStepLeavesTheFileAtItsVersion() throws {
        let fixture = try ProfileFixture()
        do { _ = try fixture.create() }
        let database = try SQLiteDatabase(path: fixture.databasePath, create: false)
        #expect(throws: SQLiteError.self) {
            try database.transaction { try Schema.migrate(database, from: 1, steps: Schema.steps + ["CREATE TABLE keyring (x)"]) }
        }
        #expect(try database.integer("PRAGMA user_version") == 1)
        #expect(try fixture.open().contacts.isEmpty)
    }
}
