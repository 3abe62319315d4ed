import CatroomCrypto
import Foundation
import Testing
@testable import CatroomProfile

@Suite struct HistoryStoreTests {
    static let room = Conversation.room("lobby@rooms.localhost")
    static let start = Date(timeIntervalSince1970: 1_790_000_000)

    static func entry(_ text: String, _ kind: HistoryEntry.Kind = .message, at time: Date = start, sender: IdentityKey? = IdentityKeyPair.generate().publicKey) -> HistoryEntry {
        HistoryEntry(kind: kind, time: time, sender: kind == .topic ? nil : sender, name: "alice", text: text)
    }

    @Test func keepsEachConversationsEntriesInOrderAcrossOpenings() throws {
        let fixture = try ProfileFixture()
        let bob = IdentityKeyPair.generate().publicKey
        let roomEntries = [Self.entry("hello"), Self.entry("waves", .action), Self.entry("new topic", .topic), Self.entry("zoë\nsecond line")]
        let privateEntries = [Self.entry("psst", .privateIn, sender: bob), Self.entry("yes?", .privateOut)]
        do {
            let profile = try fixture.create()
            for (index, entry) in roomEntries.enumerated() {
                try profile.appendHistory(entry, to: Self.room)
                if index < privateEntries.count { try profile.appendHistory(privateEntries[index], to: .peer(bob)) }
            }
        }
        let reopened = try fixture.open()
        #expect(try reopened.history(of: Self.room) == roomEntries)
        #expect(try reopened.history(of: .peer(bob)) == privateEntries)
        #expect(try reopened.history(of: Self.room, limit: 2) == Array(roomEntries.suffix(2)))
        #expect(try reopened.history(of: .room("other@rooms.localhost")).isEmpty)
    }

    /// A `/join` straight back reads the history only once the writes queued before it are done.
    @Test func theWriterIsFlushedBeforeHistoryIsRead() async throws {
        let fixture = try ProfileFixture()
        let profile = try fixture.create()
        let writer = ProfileWriter(profile: profile, failed: { Issue.record("a write failed: \($0)") })
        let entries = (0..<40).map { Self.entry("message \($0)") }
        for entry in entries { writer.submit(.history(entry, Self.room)) }
        await writer.flushed()
        #expect(try profile.history(of: Self.room) == entries)
        await writer.finish()
        // After the writer ends, waiting for it returns at once.
        await writer.flushed()
    }

    @Test func aHistoryRowMovedToAnotherConversationFailsToAuthenticate() throws {
        let fixture = try ProfileFixture()
        let profile = try fixture.create()
        try profile.appendHistory(Self.entry("hello"), to: Self.room)
        try profile.appendHistory(Self.entry("other"), to: .room("other@rooms.localhost"))
        try fixture.tamper("UPDATE history SET handle = (SELECT handle FROM history WHERE id = 2) WHERE id = 1")
        #expect(throws: ProfileError.damaged(name: fixture.name, detail: "a history record failed to authenticate")) {
            try profile.history(of: .room("other@rooms.localhost"))
        }
    }

    @Test func aHistoryRowMovedToAnotherIdFailsToAuthenticate() throws {
        let fixture = try ProfileFixture()
        let profile = try fixture.create()
        try profile.appendHistory(Self.entry("first"), to: Self.room)
        try profile.appendHistory(Self.entry("second"), to: Self.room)
        // Swapping two rows' boxes reorders the conversation: refused.
        try fixture.tamper("""
            UPDATE history SET box = CASE id WHEN 1 THEN (SELECT box FROM history WHERE id = 2) ELSE (SELECT box FROM history WHERE id = 1) END
            """)
        #expect(throws: ProfileError.damaged(name: fixture.name, detail: "a history record failed to authenticate")) {
            try profile.history(of: Self.room)
        }
    }

    @Test func migratesAVersionOneFileAndKeepsItsIdentityAndContacts() throws {
        let fixture = try ProfileFixture()
        let alice = ProfileFixture.contact("alice", verified: true)
        let identity: IdentityKey
        do {
            let profile = try fixture.create()
            identity = profile.identity.publicKey
            try profile.save(alice)
        }
        // Back to what version 1 wrote: its tables only.
        try fixture.tamper("DROP TABLE history; DROP TABLE settings; PRAGMA user_version = 1")
        let migrated = try fixture.open()
        #expect(migrated.openedVersion == 1)
        #expect(migrated.identity.publicKey == identity)
        #expect(migrated.contacts == [alice])
        #expect(migrated.settings == ProfileSettings())
        try migrated.appendHistory(Self.entry("hello"), to: Self.room)
        #expect(try migrated.history(of: Self.room).map(\.text) == ["hello"])
    }

    @Test func retentionDeletesExactlyWhatIsOlderThanTheKeep() throws {
        let fixture = try ProfileFixture()
        let now = Self.start.addingTimeInterval(10_000)
        let ages: [TimeInterval] = [7200, 3601, 3600, 1, 0]
        do {
            let profile = try fixture.create()
            try profile.changeSettings(ProfileSettings(history: true, keepSeconds: 3600), now: Self.start)
            for age in ages { try profile.appendHistory(Self.entry("\(Int(age))", at: now.addingTimeInterval(-age)), to: Self.room) }
            try profile.appendHistory(Self.entry("old private", .privateIn, at: now.addingTimeInterval(-4000)), to: .peer(IdentityKeyPair.generate().publicKey))
            #expect(try profile.pruneHistory(now: now) == 3)
            #expect(try profile.history(of: Self.room).map(\.text) == ["3600", "1", "0"])
        }
        // At opening too, as of the time given.
        let reopened = try Profile.open(fixture.name, in: fixture.directory, passphrase: ProfileFixture.passphrase(), now: now.addingTimeInterval(3600))
        #expect(try reopened.history(of: Self.room).map(\.text) == ["0"])
    }

    @Test func forgettingAContactDeletesItsPrivateHistoryOnly() throws {
        let fixture = try ProfileFixture()
        let profile = try fixture.create()
        let bob = ProfileFixture.contact("bob")
        try profile.save(bob)
        try profile.appendHistory(Self.entry("psst", .privateIn, sender: bob.identity), to: .peer(bob.identity))
        try profile.appendHistory(Self.entry("hello", sender: bob.identity), to: Self.room)
        let privateBox = try boxes(fixture)[0]
        try profile.forget(bob.identity)
        #expect(try profile.history(of: .peer(bob.identity)).isEmpty)
        #expect(try profile.history(of: Self.room).count == 1)
        #expect(!fixture.files().contains { $0?.contains(privateBox) == true })
    }

    @Test func turningHistoryOffDeletesAllOfIt() throws {
        let fixture = try ProfileFixture()
        let profile = try fixture.create()
        try profile.changeSettings(ProfileSettings(history: true, keepSeconds: 86_400))
        try profile.appendHistory(Self.entry("hello"), to: Self.room)
        try profile.changeSettings(ProfileSettings(history: false))
        #expect(try boxes(fixture).isEmpty)
        #expect(profile.settings == ProfileSettings())
    }

    @Test func deletingARoomsHistoryLeavesTheOthers() throws {
        let fixture = try ProfileFixture()
        let profile = try fixture.create()
        let other = Conversation.room("other@rooms.localhost")
        try profile.appendHistory(Self.entry("one"), to: Self.room)
        try profile.appendHistory(Self.entry("two"), to: Self.room)
        try profile.appendHistory(Self.entry("three"), to: other)
        #expect(try profile.deleteHistory(of: Self.room) == 2)
        #expect(try profile.history(of: Self.room).isEmpty)
        #expect(try profile.history(of: other).map(\.text) == ["three"])
    }

    @Test func settingsSurviveReopening() throws {
        let fixture = try ProfileFixture()
        do { try fixture.create().changeSettings(ProfileSettings(history: true, keepSeconds: 30 * 86_400)) }
        #expect(try fixture.open().settings == ProfileSettings(history: true, keepSeconds: 30 * 86_400))
    }

    private func boxes(_ fixture: ProfileFixture) throws -> [[UInt8]] {
        let database = try SQLiteDatabase(path: fixture.databasePath, create: false)
        let statement = try database.prepare("SELECT box FROM history ORDER BY id")
        var boxes: [[UInt8]] = []
        while try statement.step() { boxes.append(statement.blob(at: 0)) }
        return boxes
    }
}

@Suite struct HistoryRecordTests {
    @Test(arguments: HistoryEntry.Kind.allCases)
    func decodesWhatItEncodes(kind: HistoryEntry.Kind) {
        let entry = HistoryStoreTests.entry("a line\nand ☕", kind)
        let bytes = HistoryRecord.encode(entry)
        #expect(bytes.count % HistoryRecord.block == 0)
        #expect(HistoryRecord.decode(bytes) == entry)
    }

    @Test func refusesWhatEncodeWouldNotMake() {
        let bytes = HistoryRecord.encode(HistoryStoreTests.entry("hello"))
        var padded = bytes
        padded[padded.count - 1] = 1
        var kind = bytes
        kind[1] = 9
        var long = bytes
        long[49] = 0xff  // the text's length runs past the end
        for bad in [padded, kind, long, Array(bytes.dropLast()), bytes + [UInt8](repeating: 0, count: HistoryRecord.block), []] {
            #expect(HistoryRecord.decode(bad) == nil)
        }
    }

    @Test func settingsDecodeWhatTheyEncodeOnly() {
        for settings in [ProfileSettings(), ProfileSettings(history: true), ProfileSettings(history: true, keepSeconds: 3600)] {
            #expect(ProfileSettings.decode(settings.encode()) == settings)
        }
        #expect(ProfileSettings.decode([1, 2, 0, 0, 0, 0, 0, 0, 0, 0]) == nil)
        #expect(ProfileSettings.decode([2, 0, 0, 0, 0, 0, 0, 0, 0, 0]) == nil)
        #expect(ProfileSettings.decode([1, 1, 0xff, 0, 0, 0, 0, 0, 0, 0]) == nil)
    }
}
