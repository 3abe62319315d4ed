@testable import CatroomCrypto
import Testing

/// Room fan-out sealing and opening (DESIGN §2.6, §2.7; SECURITY-CASES PC-19..PC-21, RM-07).
@Suite final class FanoutTests {
    static let room = "lobby@rooms.example.org"
    var members: [Member]

    /// Four members; member 0 has sessions with everyone.
    init() throws {
        var members = (0..<4).map { _ in Member() }
        for i in 1..<members.count {
            var peer = members[i]
            try establish(&members[0], &peer)
            members[i] = peer
        }
        self.members = members
    }

    var ids: [String] { members.map(\.id) }

    func seal(_ text: String, kind: FanoutContext.Kind = .room, to recipients: [Int]) throws -> Fanout.Message {
        try Fanout.seal(Array(text.utf8), kind: kind, room: Self.room, recipients: recipients.map { ids[$0] }, store: &members[0].store)
    }

    /// What member `i` does with a delivered copy: its own key entry and the shared fields.
    func open(_ message: Fanout.Message, at i: Int, context: FanoutContext? = nil, key: SessionMessage? = nil) throws -> String {
        let opened = try Fanout.open(
            message.payload, context: context ?? message.context, key: key ?? message.keys[ids[i]]!, store: &members[i].store)
        return String(decoding: opened, as: UTF8.self)
    }

    /// The context rebuilt with one field changed, as a relay might present it.
    func relabel(_ context: FanoutContext, kind: FanoutContext.Kind? = nil, room: String? = nil, sender: String? = nil,
                 recipients: [String]? = nil, commitment: [UInt8]? = nil) throws -> FanoutContext {
        try FanoutContext(
            kind: kind ?? context.kind, room: room ?? context.room, sender: sender ?? context.sender,
            messageID: context.messageID, recipients: recipients ?? context.recipients, commitment: commitment ?? context.commitment)
    }

    @Test func everyRecipientOpensTheSamePlaintext() throws {
        let message = try seal("hello room", to: [1, 2, 3])
        #expect(message.keys.count == 3)
        #expect(message.context.recipients == ids[1...3].sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        for i in 1...3 { #expect(try open(message, at: i) == "hello room") }
    }

    @Test func aRecipientLeftOutIsDetected() throws {
        let message = try seal("x", to: [1, 2, 3])
        let dropped = try relabel(message.context, recipients: [ids[1], ids[2]])
        #expect(throws: CryptoError.decryptionFailed) { try open(message, at: 1, context: dropped) }
        #expect(try open(message, at: 1) == "x")
    }

    @Test func aRecipientAddedIsDetected() throws {
        let message = try seal("x", to: [1, 2])
        let added = try relabel(message.context, recipients: [ids[1], ids[2], ids[3]])
        #expect(throws: CryptoError.decryptionFailed) { try open(message, at: 1, context: added) }
        // Member 3 was never a recipient and gets no key entry; given someone else's it learns nothing.
        #expect(throws: CryptoError.self) { try open(message, at: 3, context: added, key: message.keys[ids[1]]!) }
        #expect(try open(message, at: 1) == "x")
    }

    @Test func swappedKeyEntriesAreDetected() throws {
        let message = try seal("x", to: [1, 2])
        #expect(throws: CryptoError.decryptionFailed) { try open(message, at: 1, key: message.keys[ids[2]]!) }
        #expect(throws: CryptoError.decryptionFailed) { try open(message, at: 2, key: message.keys[ids[1]]!) }
        #expect(try open(message, at: 1) == "x")
        #expect(try open(message, at: 2) == "x")
    }

    @Test func aRoomMessageReplayedAsPrivateIsDetected() throws {
        let message = try seal("room only", to: [1])
        let asPrivate = try relabel(message.context, kind: .privateChat)
        #expect(throws: CryptoError.decryptionFailed) { try open(message, at: 1, context: asPrivate) }
        // And the reverse: a side chat shown in the room.
        let side = try seal("just us", kind: .privateChat, to: [2])
        #expect(throws: CryptoError.decryptionFailed) { try open(side, at: 2, context: relabel(side.context, kind: .room)) }
        #expect(try open(message, at: 1) == "room only")
        #expect(try open(side, at: 2) == "just us")
    }

    @Test func movingToAnotherRoomOrSenderIsDetected() throws {
        let message = try seal("x", to: [1, 2])
        #expect(throws: CryptoError.decryptionFailed) {
            try open(message, at: 1, context: relabel(message.context, room: "other@rooms.example.org"))
        }
        // Relabelled as coming from member 2, who has no session with member 1 here.
        #expect(throws: CryptoError.self) { try open(message, at: 1, context: relabel(message.context, sender: ids[3])) }
        #expect(try open(message, at: 1) == "x")
    }

    @Test func replayIsADuplicateAndOpensOnce() throws {
        let message = try seal("once", to: [1])
        #expect(try open(message, at: 1) == "once")
        #expect(throws: CryptoError.duplicateMessage) { try open(message, at: 1) }
    }

    @Test func aTamperedPayloadLeavesTheSessionUntouched() throws {
        let message = try seal("payload", to: [1])
        var payload = message.payload
        payload[0] ^= 1
        let before = members[1].store.session(with: ids[0])!.serialized
        #expect(throws: CryptoError.decryptionFailed) {
            _ = try Fanout.open(payload, context: message.context, key: message.keys[ids[1]]!, store: &members[1].store)
        }
        #expect(members[1].store.session(with: ids[0])!.serialized == before)
        #expect(try open(message, at: 1) == "payload")
    }

    @Test func aWrongCommitmentIsRejected() throws {
        let message = try seal("x", to: [1])
        var commitment = message.context.commitment
        commitment[31] ^= 1
        #expect(throws: CryptoError.decryptionFailed) { try open(message, at: 1, context: relabel(message.context, commitment: commitment)) }
    }

    /// PC-19: a sender (with a relay) that gives two recipients two different payload keys
    /// under one commitment is caught by the key commitment before any payload is opened.
    @Test func twoRecipientsCannotAcceptDifferentPlaintexts() throws {
        let honest = try seal("for one", to: [1, 2])
        let other = try seal("for two", to: [1, 2])
        // Recipient 2 is given other's key entry (a different K) under honest's context.
        #expect(throws: CryptoError.decryptionFailed) { try open(honest, at: 2, key: other.keys[ids[2]]!) }
        #expect(try open(honest, at: 1) == "for one")
    }

    /// A recipient learns K; it must still be unable to make a payload that another
    /// recipient accepts as the sender's (issue 9: insider forgery).
    @Test func aRecipientCannotForgeThePayload() throws {
        let message = try seal("from member 0", to: [1, 2])
        var insider = members[1].store
        let learned = try insider.decrypt(
            message.keys[ids[1]]!, from: ids[0], associatedData: message.context.entryDigest(payload: message.payload))
        let forged = PayloadKeys(learned).seal(Array("forged by member 1".utf8), digest: message.context.digest)
        let before = members[2].store.session(with: ids[0])?.serialized
        #expect(throws: CryptoError.decryptionFailed) {
            _ = try Fanout.open(forged, context: message.context, key: message.keys[ids[2]]!, store: &members[2].store)
        }
        #expect(members[2].store.session(with: ids[0])?.serialized == before)
        #expect(try open(message, at: 2) == "from member 0")
    }

    /// A sender's valid entry carrying a key other than the committed one is the sender's fault, named apart.
    @Test func anEntryWithAnUncommittedKeyIsACommitmentMismatch() throws {
        let message = try seal("x", to: [1, 2])
        let digest = message.context.entryDigest(payload: message.payload)
        var sender = members[0].store
        let wrong = try sender.encrypt(SecretBytes(copying: [UInt8](repeating: 7, count: 32)), to: ids[2], associatedData: digest)
        #expect(throws: CryptoError.commitmentMismatch) { try open(message, at: 2, key: wrong) }
        let short = try sender.encrypt([UInt8](repeating: 7, count: 31), to: ids[2], associatedData: digest)
        #expect(throws: CryptoError.commitmentMismatch) { try open(message, at: 2, key: short) }
    }

    /// A sender's valid entry with the right key, bound to a payload that does not open.
    @Test func aPayloadThatDoesNotOpenUnderItsKeyIsPayloadInvalid() throws {
        let message = try seal("x", to: [1])
        var broken = message.payload
        broken[broken.count - 1] ^= 1
        var insider = members[1].store
        let payloadKey = try insider.decrypt(
            message.keys[ids[1]]!, from: ids[0], associatedData: message.context.entryDigest(payload: message.payload))
        let entry = try members[0].store.encrypt(payloadKey, to: ids[1], associatedData: message.context.entryDigest(payload: broken))
        let before = members[1].store.session(with: ids[0])?.serialized
        #expect(throws: CryptoError.payloadInvalid) {
            _ = try Fanout.open(broken, context: message.context, key: entry, store: &members[1].store)
        }
        #expect(members[1].store.session(with: ids[0])?.serialized == before)
    }

    @Test func onlyListedRecipientsCanOpen() throws {
        let message = try seal("x", to: [1])
        #expect(throws: CryptoError.contextMismatch) { try open(message, at: 2, key: message.keys[ids[1]]!) }
    }

    @Test func sealingNeedsASessionWithEveryRecipient() throws {
        let stranger = Member()
        #expect(throws: CryptoError.noSession) {
            try Fanout.seal([1], kind: .room, room: Self.room, recipients: [ids[1], stranger.id], store: &members[0].store)
        }
    }

    @Test func contextRejectsBadShapes() throws {
        let id = [UInt8](repeating: 1, count: 16), commitment = [UInt8](repeating: 2, count: 32)
        #expect(throws: CryptoError.contextMismatch) {
            try FanoutContext(kind: .room, room: "r@x", sender: "a", messageID: id, recipients: ["b", "b"], commitment: commitment)
        }
        #expect(throws: CryptoError.contextMismatch) {
            try FanoutContext(kind: .room, room: "r@x", sender: "a", messageID: id, recipients: ["a", "b"], commitment: commitment)
        }
        #expect(throws: CryptoError.contextMismatch) {
            try FanoutContext(kind: .privateChat, room: "r@x", sender: "a", messageID: id, recipients: ["b", "c"], commitment: commitment)
        }
        #expect(throws: CryptoError.malformed) {
            try FanoutContext(kind: .room, room: "r@x", sender: "a", messageID: [1], recipients: ["b"], commitment: commitment)
        }
        #expect(throws: CryptoError.malformed) {
            try FanoutContext(kind: .room, room: "r@x", sender: "a", messageID: id, recipients: [], commitment: commitment)
        }
        // Order given by the relay does not matter: the context sorts.
        let a = try FanoutContext(kind: .room, room: "r@x", sender: "a", messageID: id, recipients: ["c", "b"], commitment: commitment)
        let b = try FanoutContext(kind: .room, room: "r@x", sender: "a", messageID: id, recipients: ["b", "c"], commitment: commitment)
        #expect(a.encoded == b.encoded)
    }
}
