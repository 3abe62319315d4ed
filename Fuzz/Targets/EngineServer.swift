#if CATROOM_FUZZ_CLIENT
import CatroomCrypto
import CatroomProtocol
import CatroomXML
@testable import CatroomClient
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

// The `engine` target's server side: what the engine sends is read back, its IQs are
// answered as the input chooses, and the members read what is sealed to them.
//
// A bundle fetch (CR-0004 §5.3) gets one answer byte `a`:
//   a % 5 == 0  the member's genuine bundle (bit 7: without a one-time prekey);
//   a % 5 == 1  another member's genuine bundle;
//   a % 5 == 2  the genuine answer with bit `a >> 3 & 7` flipped in the byte at a u16 offset;
//   a % 5 == 3  an error answer, the condition chosen by `a >> 3` (CR-0004 §6);
//   a % 5 == 4  no answer (the connection ends with it pending).
// A publication (CR-0004 §5.2, a refill after a low-stock notice) gets `a % 4`: result, the
// result with a flipped bit (as above), an error, or no answer.
// Invariants:
// - a session with a member is always one with that member's genuine identity key, and
//   only with a member in the room;
// - an answer to a fetch from a member in the room creates a session with that member
//   exactly when it is a result whose bundle has the genuine identity key and signed prekey
//   (CR-0001 §5.2), and a hello then goes to it; otherwise the engine reports "no key
//   exchange with" the member and the error CR-0001 §5.2 names in its check order (an
//   unparsable bundle, a wrong identity, a bad signature), and who holds a session with
//   which key is unchanged;
// - a publication carries this member's identity key and signed prekey and new one-time
//   prekeys it holds; they are deleted when it is refused, and kept when it is accepted or
//   unanswered (the server may have stored them).

/// A channel without a server: what the engine writes is kept for the driver to read.
final class EngineSink: Sendable {
    let connection: StanzaConnection
    private let written = NIOLockedValueBox<[UInt8]>([])

    init() throws {
        var descriptors: [Int32] = [0, 0]
        guard pipe(&descriptors) == 0 else { throw StanzaConnection.ConnectionFailed(description: "pipe failed") }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let written = written
        let channel = try NIOPipeBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Capture(written: written)) }
            }
            .takingOwnershipOfDescriptors(input: descriptors[0], output: descriptors[1]).wait()
        let (events, continuation) = AsyncStream.makeStream(of: StanzaConnection.Event.self)
        connection = StanzaConnection(channel: channel, events: events, decoder: ClientStreamDecoder(continuation: continuation))
    }

    /// The stanzas written since the last call. Each send is one whole write, and so one whole stanza.
    func take() -> [XML.Element] {
        EngineRun.parse(written.withLockedValue { written in defer { written = [] }; return written })
    }

    private final class Capture: ChannelOutboundHandler, Sendable {
        typealias OutboundIn = ByteBuffer
        let written: NIOLockedValueBox<[UInt8]>

        init(written: NIOLockedValueBox<[UInt8]>) { self.written = written }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            let buffer = unwrapOutboundIn(data)
            written.withLockedValue { $0.append(contentsOf: buffer.readableBytesView) }
            promise?.succeed(())
        }
    }
}

/// The driver's view of the engine's IQs.
struct EngineRequests {
    /// Fetches seen and not answered yet, by request id: the member whose bundle was asked for.
    var fetches: [String: String] = [:]
    /// Publications seen and not answered yet, by request id: the one-time prekey ids they carry.
    var publications: [String: [UInt32]] = [:]
    /// Requests a raw stanza answered before the driver saw them.
    var answeredUnseen: Set<String> = []
    /// One-time prekeys whose publication was accepted or never answered: held to the end.
    var kept: [UInt32] = []
}

extension EngineRun {
    /// How long to wait for the engine to act on an answer; it does so at once, so only a bug
    /// (or a machine stalled for seconds) runs into it.
    static let outcomePolls = 2500
    static let pollInterval = Duration.milliseconds(2)

    /// Reads what the engine sent: members open what is sealed to them, requests are noted.
    mutating func pull(_ engine: RoomEngine) async {
        for element in world.sink.take() {
            guard element.name == "iq" else {
                receive(element)
                continue
            }
            guard let id = element.attribute("id"), !requests.answeredUnseen.contains(id) else { continue }
            guard let bundle = element.firstChild(name: "bundle", namespace: Namespace.bundles) else {
                return invariant(false, "the engine sent an IQ that is not a bundle fetch or publication: \(Self.text(element))")
            }
            switch element.attribute("type") {
            case "get":
                let member = members.firstIndex { element.attribute("to") == "\($0.accountID)@\(world.configuration.domain)" }
                // Only members in the room before it are the engine's to contact (DESIGN §2.5).
                guard let member, member >= world.hellos.count else {
                    return invariant(false, "the engine fetched a bundle it has no use for: \(Self.text(element))")
                }
                requests.fetches[id] = members[member].accountID
            case "set":
                requests.publications[id] = await checkPublication(bundle, engine)
            default:
                return invariant(false, "an IQ neither get nor set: \(Self.text(element))")
            }
            unanswered.append(id)
        }
    }

    /// Answers every request seen, waiting up to `polls` for `wanted` requests to come.
    mutating func serve(_ engine: RoomEngine, _ iq: IQTracker, _ input: inout FuzzInput, wanted: Int = 0, polls: Int = 0) async {
        var served = 0
        for poll in 0...polls {
            await pull(engine)
            while !unanswered.isEmpty {
                let id = unanswered.removeFirst()
                served += 1
                await answer(id, engine, iq, &input)
            }
            if served >= wanted || poll == polls { break }
            try? await Task.sleep(for: Self.pollInterval)
        }
    }

    private mutating func answer(_ id: String, _ engine: RoomEngine, _ iq: IQTracker, _ input: inout FuzzInput) async {
        let reply: XML.Element?
        if let peer = requests.fetches[id], let member = members.firstIndex(where: { $0.accountID == peer }) {
            reply = fetchReply(to: id, member: member, &input)
        } else if requests.publications[id] != nil {
            reply = publicationReply(to: id, &input)
        } else {
            return  // answered by a raw stanza meanwhile
        }
        guard let reply else { return }
        if await !resolve(reply, engine, iq) {
            // Its id or type was flipped: the read loop ignores an IQ nobody waits for.
            _ = await engine.deliver(reply, peers: [])
        }
    }

    private func fetchReply(to id: String, member: Int, _ input: inout FuzzInput) -> XML.Element? {
        let choice = input.byte()
        let owner = members[choice % 5 == 1 ? (member + 1) % members.count : member]
        let bundle = owner.preKeys.bundle(oneTimePreKeyID: choice & 0x80 == 0 ? 1 : nil)
        let element = BundleElement(
            identityKey: bundle.identityKey, signedPreKey: bundle.signedPreKey, oneTimePreKeys: bundle.oneTimePreKey.map { [$0] } ?? []
        ).element
        var result = Self.iq("result", id: id, from: "\(members[member].accountID)@\(world.configuration.domain)")
        result.append(element)
        switch choice % 5 {
        case 0, 1: return result
        case 2: return Self.flip(result, choice, &input)
        case 3:
            let conditions: [StanzaError.Condition] = [.itemNotFound, .serviceUnavailable, .resourceConstraint, .badRequest]
            return Self.error(id: id, StanzaError(conditions[Int(choice >> 3) % conditions.count]))
        default: return nil
        }
    }

    private func publicationReply(to id: String, _ input: inout FuzzInput) -> XML.Element? {
        let choice = input.byte()
        switch choice % 4 {
        case 0: return Self.iq("result", id: id, from: nil)
        case 1: return Self.flip(Self.iq("result", id: id, from: nil), choice, &input)
        case 2:
            let conditions: [StanzaError.Condition] = [.resourceConstraint, .notAcceptable, .badRequest]
            return Self.error(id: id, StanzaError(conditions[Int(choice >> 3) % conditions.count], text: "refused"))
        default: return nil
        }
    }

    /// Hands an IQ reply over as the read loop does; if it answers a request the driver saw,
    /// waits for the engine to act on it and checks what it did.
    mutating func resolve(_ reply: XML.Element, _ engine: RoomEngine, _ iq: IQTracker) async -> Bool {
        guard let id = reply.attribute("id") else { return false }
        await pull(engine)  // so that a raw stanza answering a request sent just now finds it noted
        let before = await sessions(engine)
        guard iq.resolve(reply) else { return false }
        unanswered.removeAll { $0 == id }
        if let peer = requests.fetches.removeValue(forKey: id) {
            await checkFetch(of: peer, expected: judge(reply, for: peer), readable: oneTimePreKeyIsGenuine(reply, for: peer), before: before, engine)
        } else if let ids = requests.publications.removeValue(forKey: id) {
            await checkPublished(ids, accepted: reply.attribute("type") == "result", engine)
        } else {
            // Sent, and answered by a raw stanza, before the driver read it.
            requests.answeredUnseen.insert(id)
        }
        return true
    }

    /// The error CR-0001 §5.2 gives this answer, in its check order; nil for a usable bundle.
    private func judge(_ reply: XML.Element, for peer: String) -> String? {
        guard reply.attribute("type") == "result", let element = reply.firstChild(name: "bundle", namespace: Namespace.bundles),
              let bundle = try? BundleElement(element).preKeyBundle
        else { return "no usable bundle (" }
        let genuine = members.first { $0.accountID == peer }?.preKeys
        guard bundle.identityKey == genuine?.identity.publicKey else { return "\(CryptoError.identityMismatch)" }
        let signed = bundle.signedPreKey
        guard signed.publicKey == genuine?.signedPreKey.publicKey, signed.signature == genuine?.signedPreKey.signature else {
            return "\(CryptoError.invalidSignature)"
        }
        return nil
    }

    /// Whether the bundle's one-time prekey, if any, is one the member holds under that id.
    /// It is not signed (X3DH §3.3): a changed one makes a session whose first message the
    /// member cannot read, which the engine has no way to see.
    private func oneTimePreKeyIsGenuine(_ reply: XML.Element, for peer: String) -> Bool {
        guard let element = reply.firstChild(name: "bundle", namespace: Namespace.bundles),
              let oneTime = (try? BundleElement(element).preKeyBundle)?.oneTimePreKey else { return true }
        return members.first { $0.accountID == peer }?.preKeys.bundle(oneTimePreKeyID: oneTime.id).oneTimePreKey == oneTime
    }

    /// Waits for the engine's answer to a fetch for `peer` (a session or an error) and checks
    /// it; a hello must follow that the member can read, unless its one-time prekey was changed.
    mutating func checkFetch(of peer: String, expected: String?, readable: Bool = true, before: [String: IdentityKey], _ engine: RoomEngine) async {
        let present = await engine.memberList().contains { $0.id == peer }
        let prefix = "no key exchange with \(peer.prefix(8)): "
        var reported: String?
        var after = before
        for _ in 0..<Self.outcomePolls {
            drainEvents()
            reported = errors.first { $0.hasPrefix(prefix) }
            after = await sessions(engine)
            // Absent, the engine drops a bundle unseen, and reports only one that did not parse.
            if reported != nil || after[peer] != before[peer] || (!present && expected != "no usable bundle (") { break }
            try? await Task.sleep(for: Self.pollInterval)
        }
        errors.removeAll { $0.hasPrefix(prefix) }
        var others = after
        others[peer] = before[peer]
        invariant(others == before, "an answer to the fetch for \(peer.prefix(8)) changed other sessions")
        guard present, expected == nil else {
            invariant(after[peer] == before[peer], "a refused bundle for \(peer.prefix(8)) changed its session")
            if present || expected == "no usable bundle (" {
                invariant(reported?.hasPrefix(prefix + (expected ?? "")) == true, "refused \(peer.prefix(8))'s bundle with \(reported ?? "nothing"), not \(expected ?? "")")
            }
            return
        }
        invariant(reported == nil && after[peer] != nil, "a genuine bundle for \(peer.prefix(8)) gave no session: \(reported ?? "no error")")
        guard readable else { return }
        // The hello follows in the same turn (DESIGN §2.5): the member reads it.
        for _ in 0..<Self.outcomePolls where !heard.contains(peer) {
            await pull(engine)
            try? await Task.sleep(for: Self.pollInterval)
        }
        invariant(heard.contains(peer), "no hello the member could read followed \(peer.prefix(8))'s genuine bundle")
    }

    /// Checks a publication as sent; returns its one-time prekey ids.
    private func checkPublication(_ element: XML.Element, _ engine: RoomEngine) async -> [UInt32] {
        let store = engine.sessions.snapshot
        guard let bundle = try? BundleElement(element) else {
            invariant(false, "the engine published a malformed bundle: \(Self.text(element))")
            return []
        }
        invariant(bundle.identityKey == store.identity.publicKey && bundle.signedPreKey == store.preKeys.signedPreKey,
                  "the engine published another identity key or signed prekey")
        let ids = bundle.oneTimePreKeys.map(\.id)
        invariant((1...BundleElement.capacity).contains(ids.count) && ids.allSatisfy { store.preKeys.bundle(oneTimePreKeyID: $0).oneTimePreKey != nil },
                  "the engine published \(ids.count) one-time prekeys, not all of them its own")
        return ids
    }

    /// A refused publication's keys are deleted (CR-0004 §5.2): wait for the engine to say so.
    private mutating func checkPublished(_ ids: [UInt32], accepted: Bool, _ engine: RoomEngine) async {
        guard !accepted else { return requests.kept += ids }
        var reported = false
        for _ in 0..<Self.outcomePolls where !reported {
            drainEvents()
            reported = errors.contains { $0.hasPrefix("could not refill one-time prekeys") }
            if !reported { try? await Task.sleep(for: Self.pollInterval) }
        }
        errors.removeAll { $0.hasPrefix("could not refill one-time prekeys") }
        let store = engine.sessions.snapshot
        invariant(reported && ids.allSatisfy { store.preKeys.bundle(oneTimePreKeyID: $0).oneTimePreKey == nil },
                  "a refused publication's one-time prekeys were kept")
    }

    /// The end of the stream: every request still waiting fails (`IQTracker.close`).
    mutating func close(_ engine: RoomEngine, _ iq: IQTracker) async {
        await pull(engine)
        unanswered.removeAll()
        let before = await sessions(engine)
        iq.close()
        for peer in requests.fetches.values.sorted() {
            await checkFetch(of: peer, expected: "\(IQTracker.Closed())", before: before, engine)
        }
        requests.fetches = [:]
        requests.kept += requests.publications.values.joined()
        requests.publications = [:]
        let store = engine.sessions.snapshot
        invariant(requests.kept.allSatisfy { store.preKeys.bundle(oneTimePreKeyID: $0).oneTimePreKey != nil },
                  "one-time prekeys published and not refused were deleted")
    }

    /// Who holds a session with which identity key; checks that each is the member's own, in the room.
    func sessions(_ engine: RoomEngine) async -> [String: IdentityKey] {
        let store = engine.sessions.snapshot
        let present = Set(await engine.memberList().map(\.id))
        var table: [String: IdentityKey] = [:]
        for member in members {
            guard let session = store.session(with: member.accountID) else { continue }
            table[member.accountID] = session.remoteIdentity
            invariant(session.remoteIdentity == member.identity.publicKey, "a session with \(member.accountID.prefix(8)) under another key")
            invariant(present.contains(member.accountID), "a session with \(member.accountID.prefix(8)), who is not in the room")
        }
        return table
    }

    /// Each member opens what the engine sealed to it, as its client would.
    private mutating func receive(_ element: XML.Element) {
        guard element.name == "message",
              let encrypted = element.firstChild(name: "encrypted", namespace: Namespace.encrypted).flatMap(EncryptedElement.init)
        else { return }
        let isPrivate = element.attribute("type") != "groupchat"
        for index in members.indices {
            let id = members[index].accountID
            guard let bytes = encrypted.keys[id], let key = try? SessionMessage(decoding: bytes),
                  let context = try? FanoutContext(
                      kind: isPrivate ? .privateChat : .room, room: world.room.description, sender: world.me.accountID,
                      messageID: encrypted.messageID, recipients: encrypted.recipients, commitment: encrypted.commitment)
            else { continue }
            if (try? Fanout.open(encrypted.payload, context: context, key: key, store: &members[index])) != nil, isPrivate {
                heard.insert(id)
            }
        }
    }

    private static func iq(_ type: String, id: String, from: String?) -> XML.Element {
        var attributes = [XML.Attribute("type", value: type), XML.Attribute("id", value: id)]
        if let from { attributes.append(XML.Attribute("from", value: from)) }
        return XML.Element("iq", namespace: Namespace.client, attributes: attributes)
    }

    private static func error(id: String, _ error: StanzaError) -> XML.Element {
        var reply = iq("error", id: id, from: nil)
        reply.append(error.element)
        return reply
    }

    private static func flip(_ element: XML.Element, _ choice: UInt8, _ input: inout FuzzInput) -> XML.Element? {
        var bytes = element.serialized()
        bytes[input.uint16() % bytes.count] ^= 1 << (choice >> 3 & 7)
        return parse(bytes).first
    }

    static func text(_ element: XML.Element) -> String { String(decoding: element.serialized(), as: UTF8.self) }
}
#endif
