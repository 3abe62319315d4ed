import CatroomCrypto

// Fan-out messages (Sources/CatroomCrypto/Fanout, CR-0002). Input: a mode byte (Bob
// before or after Alice's first room message), then a context's fields, the sealed
// payload and Bob's key entry, each length-prefixed. Invariants:
// - a context that validates has sorted, distinct recipients without the sender, its
//   digest is the hash of its encoding, and building it again from its fields gives it;
// - opening that fails changes nothing in Bob's session with Alice or his prekeys;
// - only what Alice sealed opens, exactly as she sealed it.

extension FuzzTarget {
    static let fanout = FuzzTarget(name: "fanout", run: { bytes in
        var input = FuzzInput(bytes)
        let mode = input.byte() % 2
        let kind = FanoutContext.Kind(rawValue: input.byte()) ?? .room
        let room = String(decoding: input.field(), as: UTF8.self)
        let sender = String(decoding: input.field(), as: UTF8.self)
        let messageID = input.field()
        let recipients = (0..<Int(input.byte() % 8)).map { _ in String(decoding: input.field(), as: UTF8.self) }
        let commitment = input.field()
        let payload = input.field()
        let keyBytes = input.remaining()
        guard let context = try? FanoutContext(
            kind: kind, room: room, sender: sender, messageID: messageID, recipients: recipients, commitment: commitment)
        else { return }
        FanoutWorld.checkContext(context)
        guard let key = try? SessionMessage(decoding: keyBytes) else { return }
        let world = FanoutWorld.shared
        var bob = mode == 0 ? world.bobBeforeFirstMessage : world.bob
        let before = world.state(of: bob)
        do {
            _ = try Fanout.open(payload, context: context, key: key, store: &bob)
        } catch {
            invariant(world.state(of: bob) == before, "a fan-out message that failed to open (\(error)) changed Bob's state")
            return
        }
        invariant(world.sealed.contains(context.encoded + field(payload) + keyBytes), "a fan-out message Alice never sealed opened")
    }, seeds: { FanoutWorld.shared.seeds })
}

/// Alice, with sessions to Bob and Carol, who sealed room and side-chat messages; Bob before and after the first.
struct FanoutWorld: Sendable {
    static let room = "lobby@rooms.example.org"
    let aliceID: String
    let bobBeforeFirstMessage: SessionStore
    let bob: SessionStore
    /// Each sealed message as Bob receives it: context encoding, payload field, Bob's key entry.
    let sealed: Set<[UInt8]>
    let seeds: [String: [UInt8]]

    static let shared = FanoutWorld()

    func state(of store: SessionStore) -> [UInt8] {
        (store.session(with: aliceID)?.serialized.unprotectedBytes ?? []) + [UInt8(truncatingIfNeeded: store.preKeys.oneTimePreKeyCount)]
    }

    static func checkContext(_ context: FanoutContext) {
        let ids = context.recipients.map { Array($0.utf8) }
        invariant(zip(ids, ids.dropFirst()).allSatisfy { $0.lexicographicallyPrecedes($1) }, "recipients not sorted and distinct")
        invariant(!context.recipients.contains(context.sender), "the sender among the recipients")
        invariant(context.kind == .room || context.recipients.count == 1, "a side chat to several")
        invariant(context.digest == SHA256.hash(context.encoded), "D0 is not the hash of the context")
        let again = try? FanoutContext(
            kind: context.kind, room: context.room, sender: context.sender, messageID: context.messageID,
            recipients: context.recipients.reversed(), commitment: context.commitment)
        invariant(again == context, "a context does not rebuild from its own fields")
    }

    /// The input that carries `message` to Bob.
    static func input(_ message: Fanout.Message, mode: UInt8, bobID: String) -> [UInt8] {
        let context = message.context
        var bytes = [mode, context.kind.rawValue] + field(Array(context.room.utf8)) + field(Array(context.sender.utf8))
        bytes += field(context.messageID) + [UInt8(context.recipients.count)]
        for recipient in context.recipients { bytes += field(Array(recipient.utf8)) }
        bytes += field(context.commitment) + field(message.payload)
        return bytes + ((try? message.entry(for: bobID).encoded) ?? [])
    }

    private init() {
        var entropy = FuzzEntropy(label: "fanout")
        func member() -> SessionStore {
            var preKeys = PreKeyStore(identity: .generate(using: &entropy), using: &entropy)
            _ = preKeys.generateOneTimePreKeys(count: 2, using: &entropy)
            return SessionStore(preKeys: preKeys)
        }
        var alice = member()
        var bob = member()
        let carol = member()
        aliceID = alice.accountID
        do {
            for peer in [bob, carol] {
                try alice.initiateSession(with: peer.preKeys.bundle(oneTimePreKeyID: 1), peer: peer.accountID, using: &entropy)
            }
            var messages: [Fanout.Message] = []
            func seal(_ text: String, _ kind: FanoutContext.Kind, to recipients: [String]) throws {
                messages.append(try Fanout.seal(
                    Array(text.utf8), kind: kind, room: Self.room, recipients: recipients, store: &alice, using: &entropy))
            }
            try seal("hello room", .room, to: [bob.accountID, carol.accountID])
            bobBeforeFirstMessage = bob
            let first = messages[0]
            _ = try Fanout.open(first.payload, context: first.context, key: first.entry(for: bob.accountID), store: &bob)
            self.bob = bob
            try seal("second", .room, to: [carol.accountID, bob.accountID])
            try seal("just you", .privateChat, to: [bob.accountID])
            let bobID = bob.accountID
            sealed = Set(messages.map { $0.context.encoded + field($0.payload) + ((try? $0.entry(for: bobID).encoded) ?? []) })
            var seeds: [String: [UInt8]] = [:]
            for (index, message) in messages.enumerated() {
                seeds["sealed-\(index + 1)-to-fresh-bob"] = Self.input(message, mode: 0, bobID: bob.accountID)
                seeds["sealed-\(index + 1)-to-bob"] = Self.input(message, mode: 1, bobID: bob.accountID)
            }
            self.seeds = seeds
        } catch {
            fatalError("the fan-out fuzz target could not set up its sessions: \(error)")
        }
    }
}
