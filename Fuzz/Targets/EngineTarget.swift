#if CATROOM_FUZZ_CLIENT
import CatroomCrypto
import CatroomProtocol
import CatroomXML
@testable import CatroomClient
import Foundation
import NIOConcurrencyHelpers

// The client's room engine as a whole (`RoomEngine`, DESIGN §2.4 to §2.8) fed any stanza
// from the server. Each input starts an engine in a room with two members already there,
// whose bundles it fetches (answered as EngineServer.swift describes, one answer byte each
// at the start of the input), and three members who join after it and whose hellos it
// accepts (sessions from fixed seeds). Then it applies up to 64 operations, each a byte
// `op` and its arguments, answering the IQs the engine sends after each:
//   op % 4 == 0  raw stanzas: a u16-length field parsed inside a stream, each element
//                handed over as the client's read loop does;
//   op % 4 == 1  a message sealed by member `op >> 2 % 5` from its real session: a byte
//                (payload type, bit 7 for a side chat), a text field, and a tampering byte
//                (none, a flipped bit at a u16 offset, another member as sender, the other kind);
//   op % 4 == 2  an earlier sealed message again;
//   op % 4 == 3  member `op >> 2 % 5` leaving (bit 7 of the next byte) or coming back.
// Invariants, checked around each stanza within one turn of the engine's actor:
// - the sessions with the members and the count of one-time prekeys stay byte for byte
//   the same unless the stanza carries a message one member sealed (the same sender, kind
//   and `<encrypted/>` content) that was not accepted before, and then only that member's
//   session changes; a presence may remove a session (the member left);
// - every chat message shown is one its member sealed: the same sender, text, kind and action.

extension FuzzTarget {
    static let engine = FuzzTarget(name: "engine") { bytes in
        let input = Array(bytes)
        let done = DispatchSemaphore(value: 0)
        Task {
            var run = EngineRun(world: .shared)
            await run.run(input)
            done.signal()
        }
        done.wait()
    } seeds: {
        EngineWorld.shared.seeds
    }
}

/// What stays the same for every input: the keys, the hellos, a sink for what engines send.
final class EngineWorld: Sendable {
    static let shared = EngineWorld()

    let configuration: ClientConfiguration
    let room: JID
    let me: SessionStore
    /// My address as the server delivers to it.
    let address: JID
    /// The members who join after me, each after sealing its hello to me (`hellos`), then
    /// those already in the room, whose bundles I fetch.
    let members: [SessionStore]
    let hellos: [XML.Element]
    let sink: EngineSink
    let seeds: [String: [UInt8]]

    static let date = Date(timeIntervalSince1970: 1_795_330_800)

    private init() {
        var configuration = ClientConfiguration(host: "example.org", room: "lobby", nick: "me", trust: .insecure)
        // Timers fire at once, so that the tasks they start end soon after their input.
        configuration.pendingMessageSeconds = 0
        configuration.silentReaderSeconds = 0
        configuration.acknowledgementDelaySeconds = 0
        configuration.gapReportSeconds = 0
        configuration.refillCoolDownSeconds = 0
        self.configuration = configuration
        var entropy = FuzzEntropy(label: "engine")
        func store(oneTimePreKeys: Int) -> SessionStore {
            var preKeys = PreKeyStore(identity: .generate(using: &entropy), using: &entropy)
            _ = preKeys.generateOneTimePreKeys(count: oneTimePreKeys, using: &entropy)
            return SessionStore(preKeys: preKeys)
        }
        do {
            room = try configuration.roomJID()
            let me = store(oneTimePreKeys: 3)
            address = try JID("\(me.accountID)@example.org/fuzz")
            var members: [SessionStore] = []
            var hellos: [XML.Element] = []
            for index in 0..<3 {
                var member = store(oneTimePreKeys: 0)
                try member.initiateSession(with: me.preKeys.bundle(oneTimePreKeyID: UInt32(index + 1)), peer: me.accountID, using: &entropy)
                let hello = ChatPayload(.hello, nick: "member\(index)", at: Self.date).encoded()
                let sealed = try Fanout.seal(hello, kind: .privateChat, room: room.description, recipients: [me.accountID], store: &member, using: &entropy)
                hellos.append(Self.stanza(sealed, from: member.accountID, to: address, room: room, type: "chat"))
                members.append(member)
            }
            members += [store(oneTimePreKeys: 1), store(oneTimePreKeys: 1)]
            self.me = me
            self.members = members
            self.hellos = hellos
            sink = try EngineSink()
        } catch {
            fatalError("the engine fuzz target could not set up its room: \(error)")
        }
        seeds = EngineSeeds.all
    }

    /// A sealed message as the room delivers it (CR-0005 §5.3, §5.4).
    static func stanza(_ sealed: Fanout.Message, from sender: String, to address: JID, room: JID, type: String) -> XML.Element {
        let encrypted = EncryptedElement(
            messageID: sealed.context.messageID, commitment: sealed.context.commitment, recipients: sealed.context.recipients,
            keys: sealed.keys.mapValues(\.encoded), payload: sealed.payload)
        var message = encrypted.message(to: address, type: type)
        message[attribute: "from"] = "\(room)/\(sender)"
        return message
    }

    func presence(of id: String, leaving: Bool = false, selfPresence: Bool = false) -> XML.Element {
        var presence = XML.Element("presence", namespace: Namespace.client, attributes: [XML.Attribute("from", value: "\(room)/\(id)")])
        if leaving { presence[attribute: "type"] = "unavailable" }
        if selfPresence {
            presence.append(XML.Element("x", namespace: Namespace.mucUser, attributes: [], children: [
                .element(XML.Element("status", namespace: Namespace.mucUser, attributes: [XML.Attribute("code", value: "110")])),
            ]))
        }
        return presence
    }
}

/// Session state the engine must not change for a stanza that did not authenticate.
struct EngineState: Equatable {
    /// Each peer's serialised session, in the order the peers were given.
    var sessions: [[UInt8]?]
    var oneTimePreKeys: Int

    init(_ store: SessionStore, peers: [String]) {
        sessions = peers.map { store.session(with: $0)?.serialized.unprotectedBytes }
        oneTimePreKeys = store.preKeys.oneTimePreKeyCount
    }
}

extension RoomEngine {
    /// Hands `element` over as the client's read loop does (`CatroomClient.converse`), with the
    /// state just before and after, in one turn of the actor so no timer's task comes between.
    func deliver(_ element: XML.Element, peers: [String]) -> (before: EngineState, after: EngineState) {
        let before = EngineState(sessions.snapshot, peers: peers)
        switch element.name {
        case "presence": handlePresence(element)
        case "message": handleMessage(element)
        default: break
        }
        return (before, EngineState(sessions.snapshot, peers: peers))
    }
}

/// One input's run: an engine, the members' sessions as they seal, and what was sealed.
struct EngineRun {
    /// What identifies a sealed message to the engine: sender, kind and what it authenticates.
    struct Sealed: Hashable {
        var sender: String
        var isPrivate: Bool
        var messageID, commitment, payload, key: [UInt8]
        var recipients: [String]

        init?(_ element: XML.Element, me: String) {
            guard let from = element.attribute("from").flatMap({ try? JID($0) }), let sender = from.resource,
                  let encrypted = element.firstChild(name: "encrypted", namespace: Namespace.encrypted).flatMap(EncryptedElement.init)
            else { return nil }
            self.sender = sender
            isPrivate = element.attribute("type") != "groupchat"
            messageID = encrypted.messageID
            commitment = encrypted.commitment
            payload = encrypted.payload
            key = encrypted.keys[me] ?? []
            recipients = encrypted.recipients.sorted()
        }
    }

    /// A chat message as the engine shows it.
    struct Shown: Hashable {
        var sender: String
        var text: String
        var isPrivate: Bool
        var isAction: Bool
    }

    let world: EngineWorld
    var members: [SessionStore]
    var entropy = FuzzEntropy(label: "engine run")
    var sent: [XML.Element] = []
    var sealed: Set<Sealed> = []
    var accepted: Set<Sealed> = []
    var sealedTexts: Set<Shown> = []
    let events = NIOLockedValueBox<[ClientEvent]>([])
    /// Error events not matched to an answer yet.
    var errors: [String] = []
    /// Members who read a side chat from me (a hello).
    var heard: Set<String> = []
    var requests = EngineRequests()
    /// Requests seen and not answered yet, oldest first.
    var unanswered: [String] = []

    init(world: EngineWorld) {
        self.world = world
        members = world.members
    }

    mutating func run(_ bytes: [UInt8]) async {
        let iq = IQTracker()
        let me = world.me.accountID
        _ = world.sink.take()  // what earlier inputs' engines sent last
        let events = events
        let engine = RoomEngine(
            configuration: world.configuration, room: world.room, me: me, sessions: SharedSessions(world.me), connection: world.sink.connection,
            iq: iq, known: KnownMembers(), stanzaCap: 256 * 1024, emit: { event in events.withLockedValue { $0.append(event) } })
        // Refills are the connection's, not the room's (CR-0006 §5.12): routed as `CatroomClient`'s reader does.
        let publisher = PreKeyPublisher(
            sessions: engine.sessions, connection: world.sink.connection, iq: iq, coolDownSeconds: 0,
            emit: { event in events.withLockedValue { $0.append(event) } })
        let peers = members.map(\.accountID)
        let joiners = world.hellos.count
        for member in members[joiners...] {
            _ = await engine.deliver(world.presence(of: member.accountID), peers: peers)
        }
        _ = await engine.deliver(world.presence(of: me, selfPresence: true), peers: peers)
        for (member, hello) in zip(members, world.hellos) {
            _ = await engine.deliver(world.presence(of: member.accountID), peers: peers)
            _ = await engine.deliver(hello, peers: peers)
        }
        var input = FuzzInput(bytes)
        // The self-presence made the engine fetch the bundles of the members already there.
        await serve(engine, iq, &input, wanted: members.count - joiners, polls: Self.outcomePolls)
        for _ in 0..<64 where !input.rest.isEmpty {
            var noticed = false
            for element in operation(&input) {
                if element.name == "iq" {
                    if await resolve(element, engine, iq) { continue }
                }
                if element.name == "message", element.attribute("from") == world.configuration.domain,
                   let notice = element.firstChild(name: "low-stock", namespace: Namespace.bundles) {
                    await publisher.noticed(notice)
                    noticed = true
                    continue
                }
                let (before, after) = await engine.deliver(element, peers: peers)
                check(element, before: before, after: after, peers: peers)
                drainEvents()
                noticed = noticed || element.firstChild(name: "low-stock", namespace: Namespace.bundles) != nil
            }
            // A low-stock notice may start a publication (CR-0006 §4.1): give it a moment to come.
            await serve(engine, iq, &input, wanted: noticed ? 1 : 0, polls: noticed ? 50 : 0)
            _ = await sessions(engine)
        }
        await close(engine, iq)
        _ = await sessions(engine)
        // Its timers fire at once; what they started ends before the next input.
        await engine.settle()
    }

    /// Checks the events so far; keeps the errors for the answers they report on.
    mutating func drainEvents() {
        for event in events.withLockedValue({ events in defer { events = [] }; return events }) {
            if case .error(let text) = event { errors.append(text) }
            check(event)
        }
    }

    /// The stanzas one operation delivers.
    mutating func operation(_ input: inout FuzzInput) -> [XML.Element] {
        let op = input.byte()
        let index = Int(op >> 2) % members.count
        switch op % 4 {
        case 0:
            return Self.parse(input.field())
        case 1:
            let choice = input.byte()
            let text = String(decoding: input.field(), as: UTF8.self)
            guard let element = seal(choice, text, from: index) else { return [] }
            sent.append(element)
            return [tamper(element, &input, member: index)].compactMap { $0 }
        case 2:
            return sent.isEmpty ? [] : [sent[Int(op >> 2) % sent.count]]
        default:
            return [world.presence(of: members[index].accountID, leaving: input.byte() & 0x80 != 0)]
        }
    }

    /// Member `index` seals a payload of the type `choice` names, or `text` itself as the plaintext.
    mutating func seal(_ choice: UInt8, _ text: String, from index: Int) -> XML.Element? {
        let isPrivate = choice & 0x80 != 0
        let type = (choice & 0x7F) % 7
        var payload: ChatPayload
        switch type {
        case 0: payload = ChatPayload(.text, body: text, at: EngineWorld.date)
        case 1: payload = ChatPayload(.action, body: text, at: EngineWorld.date)
        case 2: payload = ChatPayload(.nick, nick: text, at: EngineWorld.date)
        case 3: payload = ChatPayload(.hello, nick: text, at: EngineWorld.date)
        case 4: payload = ChatPayload(.ack, at: EngineWorld.date)
        case 5: payload = ChatPayload(.unsupported(text), at: EngineWorld.date)
        default: payload = ChatPayload(.text, at: EngineWorld.date)
        }
        let plaintext = type == 6 ? Array(text.utf8) : payload.encoded()
        let me = world.me.accountID
        guard let message = try? Fanout.seal(
            plaintext, kind: isPrivate ? .privateChat : .room, room: world.room.description, recipients: [me],
            store: &members[index], using: &entropy)
        else { return nil }
        let sender = members[index].accountID
        let element = EngineWorld.stanza(message, from: sender, to: world.address, room: world.room, type: isPrivate ? "chat" : "groupchat")
        if let key = Sealed(element, me: me) { sealed.insert(key) }
        if let body = payload.body, payload.type == .text || payload.type == .action, type != 6 {
            sealedTexts.insert(Shown(sender: sender, text: MessageText.sanitize(body), isPrivate: isPrivate, isAction: payload.type == .action))
        }
        return element
    }

    /// `element` as delivered: unchanged, with one bit flipped (bit `tampering >> 2` of the byte
    /// at a u16 offset), from another member, or with the other kind.
    func tamper(_ element: XML.Element, _ input: inout FuzzInput, member index: Int) -> XML.Element? {
        var element = element
        let tampering = input.byte()
        switch tampering % 4 {
        case 0:
            return element
        case 1:
            var bytes = element.serialized()
            bytes[input.uint16() % bytes.count] ^= 1 << (tampering >> 2 & 7)
            return Self.parse(bytes).first
        case 2:
            element[attribute: "from"] = "\(world.room)/\(members[(index + 1) % members.count].accountID)"
            return element
        default:
            element[attribute: "type"] = element.attribute("type") == "groupchat" ? "chat" : "groupchat"
            return element
        }
    }

    /// Top-level elements of `bytes` read as the server's side of a client stream.
    static func parse(_ bytes: [UInt8]) -> [XML.Element] {
        let parser = XML.StreamParser()
        let header = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='example.org' version='1.0'>"
        guard let events = try? parser.feed(Array(header.utf8) + bytes) else { return [] }
        return events.compactMap { event in
            if case .element(let element) = event { element } else { nil }
        }
    }

    mutating func check(_ element: XML.Element, before: EngineState, after: EngineState, peers: [String]) {
        let key = Sealed(element, me: world.me.accountID)
        let authentic = key.map { sealed.contains($0) && !accepted.contains($0) } ?? false
        for (peer, (old, new)) in zip(peers, zip(before.sessions, after.sessions)) where old != new {
            let removed = new == nil && element.name == "presence"
            let opened = authentic && key?.sender == peer
            invariant(removed || opened, "the session with \(peer.prefix(8)) changed for \(String(decoding: element.serialized(), as: UTF8.self))")
            if opened, let key { accepted.insert(key) }
        }
        invariant(after.oneTimePreKeys == before.oneTimePreKeys || authentic, "one-time prekeys changed for a stanza that did not authenticate")
    }

    func check(_ event: ClientEvent) {
        guard case .message(let message) = event, !message.isOwn else { return }
        let shown = Shown(sender: message.from.id, text: message.text, isPrivate: message.isPrivate, isAction: message.isAction)
        invariant(sealedTexts.contains(shown), "a message shown as from \(message.from.id.prefix(8)) that it never sealed: \(message.text)")
    }
}

/// Inputs that reach past the crypto at once, for `--write-seeds`.
enum EngineSeeds {
    static var all: [String: [UInt8]] {
        let bundles: [UInt8] = [0, 0]  // both fetches answered with the genuine bundle
        let text = Array("hello room".utf8)
        let room: [UInt8] = [1, 0] + field(text) + [0]  // member 0, a room text, untampered
        let lowStock = field(Array("<message from='example.org' type='headline'><low-stock xmlns='urn:catroom:bundles:0' remaining='3'/></message>".utf8))
        let old = [UInt8](arrayLiteral: 1 | 3 << 2)  // member 3, there before the engine
        return [
            "room-text": bundles + room,
            "side-chat": bundles + [1 | 1 << 2, 0x80] + field(Array("just you".utf8)) + [0],
            "text-then-replay": bundles + room + [2],
            "tampered-bit": bundles + [1, 0] + field(text) + [1 | 3 << 2, 0, 200],
            "other-sender": bundles + [1, 1] + field(text) + [2],
            "other-kind": bundles + [1, 0] + field(text) + [3],
            "leave-and-return": bundles + [3 | 2 << 2, 0x80, 3 | 2 << 2, 0],
            "raw-plaintext": bundles + [1, 6] + field(Array("{\"ts\":1,\"type\":\"text\",\"v\":1,\"x\":01}".utf8) + [UInt8](repeating: 0x20, count: 27)) + [0],
            "raw-stanzas": bundles + [0] + field(Array(
                "<message from='lobby@rooms.example.org/x' type='groupchat'><subject>hi</subject></message><presence from='lobby@rooms.example.org/y'/><message from='example.org'><low-stock xmlns='urn:catroom:bundles:0' remaining='1'/></message>".utf8)),
            "bundle-of-another-member": [1, 0x80] + room,
            "bundle-flipped": [2 | 5 << 3, 0x01, 0x10, 3] + room,
            "bundle-errors": [3 | 1 << 3, 3 | 2 << 3] + room,
            "bundle-unanswered": [4, 4] + room,
            "old-member-speaks": bundles + old + [0x83] + field(Array("old".utf8)) + [0] + old + [0] + field(Array("I was here first".utf8)) + [0],
            "refill": bundles + [0] + lowStock + [0],
            "refill-refused": bundles + [0] + lowStock + [2],
            "refill-flipped": bundles + [0] + lowStock + [1 | 2 << 3, 0, 5],
            "refill-unanswered": bundles + [0] + lowStock + [3],
        ]
    }
}

#endif
