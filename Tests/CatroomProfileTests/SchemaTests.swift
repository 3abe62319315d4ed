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
        #expect(try database.integer("SELECT count(*) FROM sqlite_schema WHERE name IN ('keyring', 'identity', 'contacts', 'settings', 'history')") == 5)
    }

    @Test func runsALaterStepAndKeepsTheRows() throws {
        let fixture = try ProfileFixture()
        do { try fixture.create().save(ProfileFixture.contact("alice")) }
        let database = try SQLiteDatabase(path: fixture.databasePath, create: false)
        let next = Schema.steps + ["CREATE TABLE later (id INTEGER PRIMARY KEY, box BLOB NOT NULL)"]
        try database.transaction { try Schema.migrate(database, from: Schema.current, steps: next) }
        #expect(try database.integer("PRAGMA user_version") == Schema.current + 1)
        #expect(try database.integer("SELECT count(*) FROM contacts") == 1)
        // This build does not know that version: a file from the future is refused, not misread.
        #expect(throws: ProfileError.newerSchema(name: fixture.name, version: Schema.current + 1)) { try fixture.open() }
    }

    @Test func aFailingStepLeavesTheFileAtItsVersion() throws {
        let fixture = try ProfileFixture()
        do { _ = try fixture.create() }
        let database = try SQLiteDatabase(path: fixture.databasePath, create: false)
        #expect(throws: SQLiteError.self) {
            try database.transaction { try Schema.migrate(database, from: Schema.current, steps: Schema.steps + ["CREATE TABLE keyring (x)"]) }
        }
        #expect(try database.integer("PRAGMA user_version") == Schema.current)
        #expect(try fixture.open().contacts.isEmpty)
    }
}
