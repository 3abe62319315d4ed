import CatroomCrypto
import CatroomProtocol
import CatroomXML
import Foundation

/// The end-to-end engine of one room (DESIGN §2.4 to §2.8): pairwise sessions with
/// every member (CR-0001), hellos carrying display names inside them, room and
/// private messages fanned out over them (CR-0002), and the checks that keep the
/// server honest. The sessions are the connection's, shared with its other rooms
/// (CR-0006 §5.9); everything reaches it as stanzas.
actor RoomEngine {
    /// The canonical bare address (CR-0005 §3.1): the fan-out context's room.
    let room: JID
    let me: String
    private(set) var myNick: String
    /// Shared with the connection's other rooms; readable so that the `engine` fuzz
    /// target can compare session state around each stanza.
    nonisolated let sessions: SharedSessions
    private var members: [String: Member] = [:]
    private let connection: StanzaConnection
    private let iq: IQTracker
    private let emit: @Sendable (ClientEvent) -> Void
    private let configuration: ClientConfiguration
    /// The server's stanza cap, which every sealed message must fit (CR-0006 §5.5).
    private let stanzaCap: Int
    private var joined = false
    private var announcedReady = false
    /// Messages that arrived before their sender's session, retried for a few seconds.
    private var waiting: [(element: XML.Element, since: ContinuousClock.Instant)] = []
    /// One retry timer serves the whole queue, however many messages wait.
    private var retryScheduled = false
    /// What this member accepted and acknowledged, and who acknowledged its messages (CR-0006 §5.8).
    private var transcript = Transcript()
    private var acknowledgementScheduled = false
    /// Per member: gaps in its pairwise counters not filled yet, and how many of them were reported.
    private var gaps: [String: (open: Int, reported: Int)] = [:]
    /// The text of recent messages by (sender, message id), to name them in a split-view warning.
    private var shownText: [String: String] = [:]
    private var shownOrder: [String] = []
    /// Own room messages the room has not echoed back yet (XEP-0045 §7.4), oldest first,
    /// by message id: if the connection ends first, they may not have reached anyone.
    private var unechoed: [(id: [UInt8], text: String)] = []
    static let unechoedLimit = 100
    /// The room topic as this client shows it (CR-0006 §5.11), and whether it was set in a
    /// `topic` message seen here: then hellos no longer change it.
    private var topic: RoomTopic?
    private var topicSetHere = false
    /// The member whose hello reported `topic`; nil when it was set here.
    private var topicReporter: String?
    /// The safety code last reported, so that only changes are (CR-0007 §5.4).
    private var shownSafetyCode: SafetyCode?
    /// Keys, names and verifications met by this client; shared with its later connections.
    private let known: KnownMembers
    /// The tasks it started (timers, the first key exchanges) that have not ended, by number.
    private var tasks: [Int: Task<Void, Never>] = [:]
    private var tasksStarted = 0
    /// Each ready member's name as last shown, to report when a clash changes it (CR-0006 §5.4).
    private var shownNames: [String: String] = [:]

    init(
        configuration: ClientConfiguration, room: JID, me: String, sessions: SharedSessions, connection: StanzaConnection,
        iq: IQTracker, known: KnownMembers, stanzaCap: Int, emit: @escaping @Sendable (ClientEvent) -> Void
    ) {
        self.configuration = configuration
        self.stanzaCap = stanzaCap
        self.room = room
        self.me = me
        // `CatroomClient.run` refuses a name `check` refuses before it gets here.
        myNick = (try? DisplayName.check(configuration.nick)) ?? DisplayName.fallback
        self.known = known
        self.sessions = sessions
        self.connection = connection
        self.iq = iq
        self.emit = emit
    }

    var identity: IdentityKeyPair { sessions.identity }

    var isJoined: Bool { joined }

    // MARK: - Joining (CR-0005 §5.1)

    func join() {
        var presence = XML.Element("presence", namespace: Namespace.client, attributes: [XML.Attribute("to", value: "\(room)/\(me)")])
        var x = XML.Element("x", namespace: Namespace.muc, attributes: [])
        if let password = configuration.roomPassword {
            x.append(XML.Element("password", namespace: Namespace.muc, attributes: [], children: [.text(password)]))
        }
        presence.append(x)
        connection.send(presence)
    }

    /// Presence from the room: occupants arriving and leaving, and our own.
    func handlePresence(_ element: XML.Element) {
        guard let nick = occupant(element) else { return }
        let type = element.attribute("type")
        // A refused join ends the connection (`CatroomClient.converse`); others are not ours.
        if type == "error" { return }
        let statuses = element.firstChild(name: "x", namespace: Namespace.mucUser)?
            .children(name: "status", namespace: Namespace.mucUser).compactMap { $0.attribute("code") } ?? []
        if nick == me {
            if type != "unavailable", statuses.contains("110"), !joined {
                joined = true
                emit(.joined(room: room.description, occupants: members.count))
                updateSafetyCode()
                // Not awaited: the replies it waits for come through the reader that called us.
                spawn { await $0.contactInitialMembers() }
            }
            return
        }
        if type == "unavailable" {
            guard let member = members.removeValue(forKey: nick) else { return }
            sessions.release(nick, from: room.description)
            gaps[nick] = nil
            shownNames[nick] = nil
            emit(.memberLeft(info(member)))
            return updateSafetyCode()
        }
        guard members[nick] == nil else { return }
        // Occupants present before our self-presence are ours to contact; later ones contact us.
        members[nick] = Member(id: nick, initial: !joined, arrival: known.nextClaim())
        sessions.hold(nick, in: room.description)
        if joined { scheduleSilentReaderCheck(nick) }
    }

    /// The nick in the `from` of a stanza from this room, or nil. The room's part must be
    /// byte-equal to its canonical address (CR-0005 §6.1): another spelling of it is
    /// ignored and reported; another address is not this room (CR-0006 §5.7).
    private func occupant(_ element: XML.Element) -> String? {
        guard let text = element.attribute("from"), let from = try? JID(text), from.bare == room, let nick = from.resource else { return nil }
        guard text.utf8.starts(with: "\(room)/".utf8) else {
            // The JID parsed, so its bare part is printable ASCII.
            emit(.error("ignored a stanza from \(text.prefix { $0 != "/" }): the server must write the room's address as \(room) (CR-0005 §6.1)"))
            return nil
        }
        return nick
    }

    /// The joiner starts a session with every member already there (DESIGN §2.5).
    private func contactInitialMembers() async {
        let ids = members.values.filter(\.initial).map(\.id)
        if ids.isEmpty { return announceReady() }
        await withTaskGroup(of: Void.self) { group in
            for id in ids {
                group.addTask { await self.startSession(with: id) }
            }
        }
        for id in ids { scheduleSilentReaderCheck(id) }
    }

    private func startSession(with id: String) async {
        do {
            // A member met in another room of this connection already has a session (CR-0006 §5.1).
            if let existing = sessions.session(with: id) {
                members[id]?.identity = existing.remoteIdentity
                return try sendHello(to: id)
            }
            let bundle = try await fetchBundle(of: id)
            guard members[id] != nil else { return }
            // X3DH (CR-0001 §5.2): the bundle's identity must be the one `id` derives from.
            // Another room may have started one meanwhile: it stays, and an archived one still opens.
            if sessions.session(with: id) == nil { try sessions.withStore { try $0.initiateSession(with: bundle, peer: id) } }
            members[id]?.identity = sessions.session(with: id)?.remoteIdentity
            try sendHello(to: id)
        } catch {
            emit(.error("no key exchange with \(id.prefix(8)): \(error)"))
        }
    }

    private func fetchBundle(of id: String) async throws -> PreKeyBundle {
        let reply = try await iq.request(
            XML.Element("iq", namespace: Namespace.client, attributes: [
                XML.Attribute("type", value: "get"), XML.Attribute("to", value: "\(id)@\(configuration.domain)"),
            ], children: [.element(XML.Element("bundle", namespace: Namespace.bundles, attributes: []))]),
            on: connection)
        guard reply.attribute("type") == "result", let element = reply.firstChild(name: "bundle", namespace: Namespace.bundles),
              let bundle = try? BundleElement(element).preKeyBundle
        else { throw Login.Failure("no usable bundle (\(Login.errorText(reply)))") }
        return bundle
    }

    /// The hello carries the invite proof for the key this session was built with (CR-0008 §5.3).
    private func sendHello(to id: String) throws {
        var hello = ChatPayload(.hello, nick: myNick)
        if let topic { (hello.topic, hello.topicBy, hello.topicTs) = (topic.text, topic.by, topic.ts) }
        if let secret = configuration.invite {
            guard let peer = sessions.session(with: id)?.remoteIdentity else { throw CryptoError.noSession }
            hello.invite = try secret.proof(room: room.description, sender: identity.publicKey, recipient: peer).base64
        }
        try sendPrivate(hello, to: id)
        members[id]?.helloSent = true
    }

    /// Checks a hello's invite proof against the session's key (CR-0008 §5.4); nil without a secret.
    private func checkInvite(_ proof: String?, from id: String) -> Bool? {
        guard let secret = configuration.invite else { return nil }
        guard let proof = Invitation.proof(fromText: proof), let peer = sessions.session(with: id)?.remoteIdentity else { return false }
        return secret.verify(proof, room: room.description, sender: peer, recipient: identity.publicKey)
    }

    /// A member that never completes its key exchange is reported: the server may have added it.
    private func scheduleSilentReaderCheck(_ id: String) {
        let seconds = configuration.silentReaderSeconds
        spawn(after: .seconds(seconds)) { $0.checkSilentReader(id, seconds: seconds) }
        if members[id]?.ready == false { emit(.memberPending(id: id, waitedSeconds: 0)) }
    }

    private func checkSilentReader(_ id: String, seconds: Int) {
        guard let member = members[id], !member.ready else { return }
        emit(.memberPending(id: id, waitedSeconds: seconds))
    }

    private func announceReady() {
        guard !announcedReady, joined, members.values.filter(\.initial).allSatisfy(\.ready) else { return }
        announcedReady = true
        emit(.ready(members: members.values.filter(\.receives).count))
        if topic != nil { emit(.topic(topicInfo())) }
    }

    // MARK: - Receiving (CR-0002 §5.4, CR-0005 §6)

    func handleMessage(_ element: XML.Element) {
        guard let sender = occupant(element) else { return }
        if element.attribute("type") == "error" {
            return emit(.error("the server refused a message: \(Login.errorText(element))"))
        }
        if sender == me {
            // Our own groupchat, reflected by the room (XEP-0045 §7.4): already shown, now relayed.
            if let echoed = element.firstChild(name: "encrypted", namespace: Namespace.encrypted).flatMap(EncryptedElement.init) {
                unechoed.removeAll { $0.id == echoed.messageID }
            }
            return
        }
        guard let encryptedElement = element.firstChild(name: "encrypted", namespace: Namespace.encrypted) else {
            if element.firstChild(name: "subject", namespace: Namespace.client) != nil { return }
            return emit(.undecryptable(from: name(of: sender), reason: "not end-to-end encrypted"))
        }
        open(element, encryptedElement, from: sender, retrying: false)
    }

    private func open(_ element: XML.Element, _ encryptedElement: XML.Element, from sender: String, retrying: Bool) {
        let isPrivate = element.attribute("type") != "groupchat"
        guard let encrypted = EncryptedElement(encryptedElement) else {
            return emit(.undecryptable(from: name(of: sender), reason: "malformed encrypted element"))
        }
        guard members[sender] != nil else {
            return emit(.undecryptable(from: name(of: sender), reason: "the sender is not in the room"))
        }
        guard let keyBytes = encrypted.keys[me] else {
            // Before its hello, the sender most likely had no session with us yet: said once
            // per member, not for each message and acknowledgement. After it, the entry was
            // left out or dropped on the way: said every time (CR-0006 §5.6 step 2).
            guard members[sender]?.ready == false else {
                return emit(.undecryptable(from: name(of: sender), reason: "not encrypted to you"))
            }
            if members[sender]?.missedBeforeReady == true { return }
            members[sender]?.missedBeforeReady = true
            return emit(.undecryptable(from: name(of: sender), reason: Self.sentBeforeKeyExchange))
        }
        let plaintext: [UInt8]
        let digest: [UInt8]
        let skippedBefore = sessions.session(with: sender)?.skippedKeyCount ?? 0
        do {
            let key = try SessionMessage(decoding: keyBytes)
            let context = try FanoutContext(
                kind: isPrivate ? .privateChat : .room, room: room.description, sender: sender,
                messageID: encrypted.messageID, recipients: encrypted.recipients, commitment: encrypted.commitment)
            plaintext = try sessions.withStore { try Fanout.open(encrypted.payload, context: context, key: key, store: &$0) }
            digest = context.entryDigest(payload: encrypted.payload)
        } catch CryptoError.duplicateMessage {
            // A replay (by the server, or a resend): shown once already, and said so quietly.
            return emit(.duplicate(from: name(of: sender)))
        } catch CryptoError.noSession where !retrying {
            // It may have overtaken its sender's session set-up: wait a little (DESIGN §2.6).
            waiting.append((element, .now))
            return scheduleRetry()
        } catch {
            return emit(.undecryptable(from: name(of: sender), reason: Self.describe(error)))
        }
        if members[sender]?.identity == nil { members[sender]?.identity = sessions.session(with: sender)?.remoteIdentity }
        trackGaps(of: sender, skippedBefore: skippedBefore)
        guard let payload = try? ChatPayload.decode(plaintext) else {
            // Its D is still remembered: a witness that accepted another version shows the split (CR-0006 §5.8).
            if !isPrivate { report(transcript.accept(sender: sender, messageID: encrypted.messageID, digest: digest, acknowledge: false)) }
            return emit(.undecryptable(from: name(of: sender), reason: "unreadable content"))
        }
        let id = encrypted.messageID.hexString
        deliver(payload, from: sender, isPrivate: isPrivate, recipients: encrypted.recipients, id: id)
        if !isPrivate { compareTranscripts(payload, from: sender, messageID: encrypted.messageID, digest: digest) }
    }

    private func deliver(_ payload: ChatPayload, from sender: String, isPrivate: Bool, recipients: [String], id: String) {
        switch payload.type {
        case .hello:
            // Hellos travel privately (CR-0006 §5.2); one in the room would be a relabelling.
            guard isPrivate, let nick = payload.nick, let old = members[sender] else {
                return emit(.undecryptable(from: name(of: sender), reason: "misplaced hello"))
            }
            let wasReady = old.ready
            // Known from another room this client is in with it now, it did not come back.
            let returning = old.identity.flatMap(known.record(of:)) != nil && !sessions.isHeld(sender, elsewhere: room.description)
            members[sender]?.ready = true
            members[sender]?.invited = checkInvite(payload.invite, from: sender)
            if members[sender]?.helloSent == false { try? sendHello(to: sender) }
            guard let member = members[sender] else { return }
            if !wasReady {
                // The first hello's name is claimed from the member's arrival (CR-0006 §5.4).
                let checked = checkName(nick)
                let reused = adopt(checked.name, for: sender, claim: old.arrival)
                guard let member = members[sender] else { return }
                shownNames[sender] = info(member).nick
                emit(old.initial ? .memberPresent(info(member)) : returning ? .memberReconnected(info(member)) : .memberJoined(info(member)))
                if let refusal = checked.refusal { emit(.nameRefused(member: info(member), reason: refusal.description)) }
                if let reused { emit(reused) }
            } else if member.invited == false, old.invited == true {
                emit(.error("\(info(member).nick) sent a hello without a valid invite proof: it is no longer sent anything"))
            } else {
                // A second hello with another name is a rename (CR-0006 §5.2).
                rename(sender, to: nick)
            }
            refreshShownNames()
            updateSafetyCode()
            announceReady()
            adoptReportedTopic(payload, from: sender)
        case .nick:
            guard !isPrivate, let nick = payload.nick, members[sender]?.ready == true else { return }
            rename(sender, to: nick)
            refreshShownNames()
        case .text, .action:
            guard let body = payload.body, let member = members[sender] else { return }
            // Read and acknowledged all the same (CR-0006 §5.8), only not shown.
            if let identity = member.identity, known.isIgnored(identity) { return }
            // Compare the recipient list with who this client sees in the room (CR-0002 §5.4).
            let present = Set(members.keys).subtracting([sender]).union([me])
            let listed = Set(recipients)
            let text = MessageText.sanitize(body)
            if !isPrivate { rememberText(text, of: sender, id: id) }
            emit(.message(ChatMessage(
                from: info(member), text: text, isAction: payload.type == .action, isPrivate: isPrivate,
                sent: payload.date,
                missingRecipients: isPrivate ? [] : present.subtracting(listed).map(name(of:)).sorted(),
                unknownRecipients: isPrivate ? [] : listed.subtracting(present).sorted(), isOwn: false, id: id)))
        case .ack:
            break
        case .topic:
            guard !isPrivate else { return emit(.undecryptable(from: name(of: sender), reason: "misplaced topic")) }
            guard let body = payload.body, let member = members[sender], member.ready else { return }
            guard member.receives else { return emit(.error("\(info(member).nick) is not invited: its change of topic is ignored")) }
            topic = RoomTopic(text: body, by: sender, ts: payload.ts)
            (topicSetHere, topicReporter) = (true, nil)
            emit(.topic(topicInfo()))
        case .unsupported(let type):
            emit(.undecryptable(from: name(of: sender), reason: "unsupported message type \((try? DisplayName.check(type)) ?? "?")"))
        }
    }

    // MARK: - Transcript consistency (CR-0006 §5.8)

    /// Records an accepted room message, compares the acknowledgements it carries, and
    /// owes it an acknowledgement of its own unless it is only acknowledgements.
    private func compareTranscripts(_ payload: ChatPayload, from sender: String, messageID: [UInt8], digest: [UInt8]) {
        let acknowledge = payload.type != .ack
        report(transcript.accept(sender: sender, messageID: messageID, digest: digest, acknowledge: acknowledge))
        report(transcript.received(payload.acks ?? [], from: sender, me: me))
        if acknowledge { scheduleAcknowledgement() }
    }

    private func report(_ findings: [Transcript.Finding]) {
        for finding in findings {
            switch finding {
            case .divergence(let sender, let messageID, let witness):
                emit(.divergence(
                    sender: sender == me ? myNick : name(of: sender), messageID: messageID, witness: name(of: witness),
                    text: shownText[sender + "/" + messageID]))
            case .delivery(let messageID, let acknowledged, let recipients):
                emit(.delivery(
                    messageID: messageID, acknowledged: acknowledged.map(name(of:)).sorted(),
                    pending: recipients.subtracting(acknowledged).map(name(of:)).sorted()))
            }
        }
    }

    private func rememberText(_ text: String, of sender: String, id: String) {
        shownText[sender + "/" + id] = String(text.prefix(80))
        shownOrder.append(sender + "/" + id)
        if shownOrder.count > Transcript.rememberedMessages { shownText[shownOrder.removeFirst()] = nil }
    }

    /// Acknowledgements ride on this member's next room message; if none goes out
    /// within the delay, an acknowledgement-only message carries them.
    private func scheduleAcknowledgement() {
        guard !acknowledgementScheduled else { return }
        acknowledgementScheduled = true
        spawn(after: .seconds(configuration.acknowledgementDelaySeconds)) { $0.sendOwedAcknowledgements() }
    }

    private func sendOwedAcknowledgements() {
        acknowledgementScheduled = false
        let recipients = self.recipients
        guard !transcript.owed.isEmpty, !recipients.isEmpty else { return }
        do {
            try sendRoom(ChatPayload(.ack), to: recipients)
        } catch {
            emit(.error("could not send acknowledgements: \(error)"))
        }
        if !transcript.owed.isEmpty { scheduleAcknowledgement() }
    }

    /// A message that skipped ahead in a member's counters leaves skipped keys behind;
    /// one filled later was only reordered. What stays unfilled is reported.
    private func trackGaps(of sender: String, skippedBefore: Int) {
        let change = (sessions.session(with: sender)?.skippedKeyCount ?? 0) - skippedBefore
        guard change != 0 else { return }
        var gap = gaps[sender] ?? (0, 0)
        gap.open = max(0, gap.open + change)
        if change < 0, gap.reported > gap.open {
            gap.reported = gap.open
            emit(.notice("a late message from \(name(of: sender)) arrived"))
        }
        gaps[sender] = gap
        guard change > 0 else { return }
        spawn(after: .seconds(configuration.gapReportSeconds)) { $0.reportGaps(of: sender) }
    }

    private func reportGaps(of sender: String) {
        guard let gap = gaps[sender], gap.open > gap.reported else { return }
        gaps[sender]?.reported = gap.open
        emit(.missing(from: name(of: sender), count: gap.open - gap.reported))
    }

    /// Who acknowledged this member's newest room message (`/info`).
    func lastDelivery() -> (acknowledged: [String], pending: [String])? {
        guard let id = transcript.lastSent, let delivery = transcript.delivery(of: id) else { return nil }
        return (delivery.acknowledged.map(name(of:)).sorted(), delivery.recipients.subtracting(delivery.acknowledged).map(name(of:)).sorted())
    }

    private func scheduleRetry() {
        guard !retryScheduled else { return }
        retryScheduled = true
        spawn(after: .milliseconds(250)) { $0.retryWaiting() }
    }

    private func retryWaiting() {
        retryScheduled = false
        let pending = waiting
        waiting = []
        for (element, since) in pending {
            guard let sender = element.attribute("from").flatMap({ try? JID($0) })?.resource,
                  let encrypted = element.firstChild(name: "encrypted", namespace: Namespace.encrypted)
            else { continue }
            let expired = ContinuousClock.now - since > .seconds(configuration.pendingMessageSeconds)
            if sessions.session(with: sender) != nil || expired {
                open(element, encrypted, from: sender, retrying: true)
            } else {
                waiting.append((element, since))
            }
        }
        if !waiting.isEmpty { scheduleRetry() }
    }

    // MARK: - Tasks

    /// Runs `work` on the engine in a task of its own, after `delay`.
    private func spawn(after delay: Duration = .zero, _ work: @escaping @Sendable (isolated RoomEngine) async -> Void) {
        let number = tasksStarted
        tasksStarted += 1
        // Isolated to the engine, so it starts only after this method has recorded it.
        tasks[number] = Task {
            if delay > .zero { try? await Task.sleep(for: delay) }
            await work(self)
            self.tasks[number] = nil
        }
    }

    /// Returns once every task it started has ended, those started meanwhile included. The
    /// `engine` fuzz target waits for it between inputs: LeakSanitizer, looking while a task
    /// still ran on another thread, counted what that task held as lost.
    func settle() async {
        while let pending = tasks.values.first { await pending.value }
    }

    // MARK: - Sending (CR-0002 §5.3)

    /// A room message to every member whose key exchange is complete (and, holding an
    /// invite secret, who proved it: CR-0008 §5.5).
    func say(_ text: String, action: Bool = false) throws {
        let recipients = self.recipients
        guard !recipients.isEmpty else { return emit(.notice("nobody else is here yet: the message was not sent")) }
        let messageID = try sendRoom(ChatPayload(action ? .action : .text, body: text), to: recipients)
        if unechoed.count == Self.unechoedLimit { unechoed.removeFirst() }
        unechoed.append((messageID, text))
        let id = messageID.hexString
        let shown = MessageText.sanitize(text)
        emit(.message(ChatMessage(
            from: myInfo(), text: shown, isAction: action, isPrivate: false, sent: Date(),
            missingRecipients: members.values.filter { !$0.receives }.map { name(of: $0.id) }.sorted(), unknownRecipients: [], isOwn: true,
            id: id)))
        rememberText(shown, of: me, id: id)
    }

    /// Sets the room topic for everyone (CR-0006 §5.11); an empty text clears it.
    func setTopic(_ text: String) throws {
        guard text.unicodeScalars.count <= RoomTopic.maximumLength else {
            throw Login.Failure("a topic is at most \(RoomTopic.maximumLength) characters; this one has \(text.unicodeScalars.count)")
        }
        let recipients = self.recipients
        let payload = ChatPayload(.topic, body: text)
        if !recipients.isEmpty { try sendRoom(payload, to: recipients) }
        topic = RoomTopic(text: text, by: me, ts: payload.ts)
        (topicSetHere, topicReporter) = (true, nil)
        emit(.topic(topicInfo()))
    }

    /// The topic as shown, nil if none was ever set or reported.
    func currentTopic() -> TopicInfo? {
        topic == nil ? nil : topicInfo()
    }

    /// A joiner shows the topic that hellos report until one is set in its presence
    /// (CR-0006 §5.11); it is shown once every member present at joining said hello, when
    /// the setter's name is known, and again whenever a later report supersedes it.
    private func adoptReportedTopic(_ hello: ChatPayload, from sender: String) {
        guard !topicSetHere, members[sender]?.receives == true,
              let text = hello.topic, let by = hello.topicBy, let ts = hello.topicTs else { return }
        let reported = RoomTopic(text: text, by: by, ts: ts)
        guard topic.map(reported.supersedes) ?? true else { return }
        (topic, topicReporter) = (reported, sender)
        if announcedReady { emit(.topic(topicInfo())) }
    }

    private func topicInfo() -> TopicInfo {
        let topic = topic ?? RoomTopic(text: "", by: me, ts: 0)
        return TopicInfo(
            text: topic.text, setBy: topic.by == me ? myNick : name(of: topic.by),
            at: Date(timeIntervalSince1970: Double(topic.ts) / 1000), reportedBy: topicReporter.map(name(of:)))
    }

    /// Own room messages sent on this connection that the room never echoed back, oldest first.
    func unechoedTexts() -> [String] { unechoed.map(\.text) }

    /// A malicious sender, for tests of CR-0006 §5.8: each text sealed to every ready
    /// member under one message id (a split view, once a relay shows each member one).
    func sayInVersions(_ texts: [String]) throws {
        let recipients = self.recipients
        let messageID = randomBytes(count: FanoutContext.messageIDCount)
        for text in texts {
            // CR-0002 §5.3 step 1 draws K, then the message id: the second draw is replaced.
            var entropy = SecondDrawFixed(value: messageID)
            let payload = ChatPayload(.text, body: text).encoded()
            let sealed = try sessions.withStore {
                try Fanout.seal(payload, kind: .room, room: room.description, recipients: recipients, store: &$0, using: &entropy)
            }
            send(sealed, to: room, type: "groupchat")
        }
    }

    private struct SecondDrawFixed: EntropySource {
        var system = SystemEntropy()
        let value: [UInt8]
        var draws = 0
        mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
            draws += 1
            if draws == 2, buffer.count == value.count { buffer.copyBytes(from: value) } else { system.fill(buffer) }
        }
    }

    /// A side chat to one member, through the same pairwise session (DESIGN §2.7).
    func whisper(_ text: String, to nick: String) throws {
        try whisper(text, to: lookup(nick))
    }

    /// A side chat to the member with this account id, the key `/query` resolved once.
    /// When it has left, nothing is sent: a newcomer with its name is someone else.
    func whisper(_ text: String, toID id: String, shownAs nick: String) throws {
        guard let member = members[id] else {
            throw Login.Failure("\(nick) left the room: nothing was sent (anyone now called \(nick) is someone else; /query alone returns to the room)")
        }
        try whisper(text, to: member)
    }

    private func whisper(_ text: String, to member: Member) throws {
        let nick = info(member).nick
        guard member.ready else { throw Login.Failure("\(nick) has not completed the key exchange yet") }
        guard member.receives else { throw Login.Failure("\(nick) is not invited: nothing is sent to it (CR-0008)") }
        try sendPrivate(ChatPayload(.text, body: text), to: member.id)
        emit(.message(ChatMessage(
            from: myInfo(), text: MessageText.sanitize(text), isAction: false, isPrivate: true, sent: Date(),
            missingRecipients: [], unknownRecipients: [], isOwn: true, to: info(member))))
    }

    /// `checked: false` is for tests of CR-0006 §5.4: a malicious member's unchecked name.
    func changeNick(_ nick: String, checked: Bool = true) throws {
        let old = myNick
        do {
            myNick = checked ? try DisplayName.check(nick) : nick
        } catch {
            throw Login.Failure("that name cannot be used: \(error) (CR-0006 §5.4)")
        }
        let recipients = self.recipients
        if !recipients.isEmpty { try sendRoom(ChatPayload(.nick, nick: myNick), to: recipients) }
        emit(.nickChanged(from: old, member: myInfo()))
        // Members whose names look like the new one are now shown with their suffix.
        refreshShownNames()
    }

    /// Seals a room message carrying the acknowledgements owed (CR-0006 §5.8); returns its id.
    @discardableResult
    private func sendRoom(_ payload: ChatPayload, to recipients: [String]) throws -> [UInt8] {
        var payload = payload
        let owed = transcript.takeOwed()
        payload.acks = owed.isEmpty ? nil : owed
        let sealed: Fanout.Message
        do {
            try MessageSize.check(payload, recipients: recipients, to: room, type: "groupchat", stanzaCap: stanzaCap)
            sealed = try sessions.withStore { try Fanout.seal(payload.encoded(), kind: .room, room: room.description, recipients: recipients, store: &$0) }
        } catch {
            transcript.restore(owed)
            throw error
        }
        if payload.type != .ack {
            transcript.sent(
                messageID: sealed.context.messageID, digest: sealed.entryDigest, me: me,
                recipients: sealed.context.recipients)
        }
        send(sealed, to: room, type: "groupchat")
        return sealed.context.messageID
    }

    private func sendPrivate(_ payload: ChatPayload, to id: String) throws {
        let address = try room.with(resource: id)
        try MessageSize.check(payload, recipients: [id], to: address, type: "chat", stanzaCap: stanzaCap)
        let sealed = try sessions.withStore { try Fanout.seal(payload.encoded(), kind: .privateChat, room: room.description, recipients: [id], store: &$0) }
        send(sealed, to: address, type: "chat")
    }

    private func send(_ sealed: Fanout.Message, to address: JID, type: String) {
        let element = EncryptedElement(
            messageID: sealed.context.messageID, commitment: sealed.context.commitment, recipients: sealed.context.recipients,
            keys: sealed.keys.mapValues(\.encoded), payload: sealed.payload)
        connection.send(element.message(to: address, type: type))
    }

    // MARK: - Members and trust

    /// This client leaves the room: its members no longer hold their sessions here (CR-0006 §5.9).
    func leave() {
        for id in members.keys { sessions.release(id, from: room.description) }
        members = [:]
    }

    /// Whether private messages can go to the member with this account id from here.
    func canWhisper(toID id: String) -> Bool { members[id]?.receives == true }

    func memberList() -> [MemberInfo] {
        members.values.sorted { $0.seen < $1.seen }.map(info)
    }

    func myInfo() -> MemberInfo {
        MemberInfo(
            id: me, nick: myNick, fingerprint: identity.publicKey.fingerprint, verified: true, ready: true,
            invited: configuration.invite == nil ? nil : true)
    }

    func verify(_ nick: String) throws -> MemberInfo {
        let member = try lookup(nick)
        guard let identity = member.identity else { throw Login.Failure("\(info(member).nick) has no key yet") }
        known.verify(identity)
        return info(member)
    }

    /// `/ignore` and `/unignore`: by key, so a new name does not escape it, nor a newcomer
    /// with the name inherit it.
    func setIgnored(_ nick: String, _ ignored: Bool) throws -> MemberInfo {
        let member = try lookup(nick)
        guard let identity = member.identity else { throw Login.Failure("\(info(member).nick) has no key yet") }
        known.setIgnored(identity, ignored)
        return info(member)
    }

    /// Every member messages go to: its exchange is complete and, holding an invite
    /// secret, it proved it (CR-0006 §5.5, CR-0008 §5.5).
    private var recipients: [String] { members.values.filter(\.receives).map(\.id) }

    // MARK: - Safety code (CR-0007)

    /// The room safety code over this member and every member whose key exchange is
    /// complete (CR-0007 §5.1); nil before joining (and for a roster §5.1 refuses, which
    /// ready members, with 32-character ids checked against their keys, never make).
    func safetyCode() -> SafetyCode? {
        guard joined else { return nil }
        let ready = members.values.compactMap { member in
            member.ready ? member.identity.map { SafetyCode.Member(id: member.id, identity: $0) } : nil
        }
        return try? SafetyCode(room: room.description, members: ready + [SafetyCode.Member(id: me, identity: identity.publicKey)])
    }

    /// Called wherever the ready members or their keys may have changed: reports a new code.
    private func updateSafetyCode() {
        guard let code = safetyCode(), code != shownSafetyCode else { return }
        shownSafetyCode = code
        emit(.safetyCode(code: code.text, members: code.memberCount))
    }

    /// The member a typed name means (CR-0006 §5.4): its account id; or every member
    /// whose name as shown is the typed one, or whose chosen name looks like the typed
    /// one (`bob`), optionally narrowed by a fingerprint prefix of at least four hex
    /// digits (`bob#9f8e`). Two or more candidates are ambiguous. Every command that
    /// names a member looks it up here, so they all agree.
    func memberInfo(named nick: String) throws -> MemberInfo {
        info(try lookup(nick))
    }

    private func lookup(_ typed: String) throws -> Member {
        if let exact = members[typed] { return exact }
        let normalized = typed.precomposedStringWithCompatibilityMapping
        var chosen = normalized
        var prefix = ""
        if let hash = normalized.lastIndex(of: "#") {
            chosen = String(normalized[..<hash])
            prefix = normalized[normalized.index(after: hash)...].lowercased()
        }
        let validPrefix = prefix.isEmpty || (prefix.count >= 4 && prefix.allSatisfy(\.isHexDigit))
        let candidates = members.values.filter { member in
            let shown = info(member)
            if shown.nick == typed { return true }
            guard validPrefix, let name = member.nick ?? (member.ready ? DisplayName.fallback : nil) else { return false }
            return DisplayName.clash(name, chosen) && shown.fingerprint.replacingOccurrences(of: " ", with: "").hasPrefix(prefix)
        }
        guard let first = candidates.first else { throw Login.Failure("no member called \(typed)") }
        guard candidates.count == 1 else {
            let names = candidates.map { member in
                let shown = info(member)
                return (member.nick ?? DisplayName.fallback) + "#" + shown.shortFingerprint
            }.sorted()
            throw Login.Failure("ambiguous: \(names.dropLast().joined(separator: ", ")) or \(names[names.count - 1])")
        }
        return first
    }

    /// A chosen name as shown, or nil and why it was refused (CR-0006 §5.4).
    private func checkName(_ raw: String) -> (name: String?, refusal: DisplayName.Refusal?) {
        do {
            return (try DisplayName.check(raw), nil)
        } catch {
            return (nil, error)
        }
    }

    /// Gives a ready member the name it chose since `claim`, and remembers it with its key.
    /// Returns the warning due when this client saw the name with another key that is not
    /// in the room now (CR-0006 §5.10).
    private func adopt(_ name: String?, for id: String, claim: UInt64) -> ClientEvent? {
        members[id]?.nick = name
        guard let identity = members[id]?.identity else { return nil }
        let present = Set(members.values.compactMap(\.identity))
        let previous = name.flatMap { name in known.holders(of: name, except: identity).first { !present.contains($0.key) } }
        known.remember(identity, name: name, claim: claim)
        guard let name, let previous, let member = members[id] else { return nil }
        return .nameReused(name: name, previous: previous.key.fingerprint, member: info(member))
    }

    /// A ready member's new name, from a `nick` message or a later hello (CR-0006 §5.2):
    /// a refused one leaves the old name in place.
    private func rename(_ id: String, to raw: String) {
        guard let old = members[id] else { return }
        let checked = checkName(raw)
        guard let name = checked.name else {
            return emit(.nameRefused(member: info(old), reason: checked.refusal?.description ?? ""))
        }
        guard name != old.nick else { return }
        let oldName = info(old).nick
        let reused = adopt(name, for: id, claim: known.nextClaim())
        guard let member = members[id] else { return }
        shownNames[id] = info(member).nick
        emit(.nickChanged(from: oldName, member: info(member)))
        if let reused { emit(reused) }
    }

    /// A name or arrival can change how others are shown (the newcomer of a clash gets the
    /// suffix, whichever hello came first): each change is reported as a rename.
    private func refreshShownNames() {
        for member in members.values.sorted(by: { $0.arrival < $1.arrival }) where member.ready {
            let shown = info(member)
            if let old = shownNames[member.id], old != shown.nick { emit(.nickChanged(from: old, member: shown)) }
            shownNames[member.id] = shown.nick
        }
    }

    /// The member as shown (CR-0006 §5.4): its chosen name, with `#` and the first group of
    /// its fingerprint appended when it looks like this member's own name or like a name
    /// another key took earlier for this client; `unnamed#…` when its name was refused.
    private func info(_ member: Member) -> MemberInfo {
        let fingerprint = member.identity?.fingerprint ?? ""
        let suffix = "#" + String(fingerprint.prefix(8))
        let nick: String
        if let chosen = member.nick {
            let claim = member.identity.flatMap(known.record(of:))?.claim ?? member.arrival
            let newcomer = DisplayName.clash(chosen, myNick)
                || known.holders(of: chosen, except: member.identity).contains { $0.record.claim < claim }
            nick = newcomer ? chosen + suffix : chosen
        } else if member.ready, !fingerprint.isEmpty {
            nick = DisplayName.fallback + suffix
        } else {
            nick = String(member.id.prefix(8))
        }
        let verified = member.identity.flatMap(known.record(of:))?.verified
        return MemberInfo(
            id: member.id, nick: nick, fingerprint: fingerprint, verified: verified != nil,
            verifiedAt: known.isPersistent ? verified : nil, ready: member.ready, invited: member.invited)
    }

    private func name(of id: String) -> String {
        members[id].map { info($0).nick } ?? String(id.prefix(8))
    }

    static let sentBeforeKeyExchange = "sent before your key exchange with it, so not encrypted to you (the next such messages are not shown)"

    static func describe(_ error: Error) -> String {
        switch error as? CryptoError {
        case .decryptionFailed?: "it failed to authenticate (tampered, or not for this room or chat)"
        case .commitmentMismatch?: "the sender sent a key that does not match its commitment (the sender misbehaved)"
        case .payloadInvalid?: "the sender sent a payload that does not open (the sender misbehaved)"
        case .contextMismatch?: "its recipients or kind do not fit where it arrived"
        case .identityMismatch?: "the sender's key does not match its id"
        case .tooFarInFuture?: "too many messages missing before it"
        case .noSession?: "no session with the sender"
        case .unknownPreKey?: "it names a prekey this client does not hold"
        case .malformed?, .unsupportedVersion?: "malformed"
        default: "\(error)"
        }
    }
}
