import CatroomClient
import CatroomCrypto
import CatroomProfile
import CatroomProtocol
import Foundation

/// What a front end shows: events from the client, replies to commands, local notes.
protocol ChatOutput: AnyObject, Sendable {
    func show(_ update: ClientUpdate)
    /// The answer to a command the user typed.
    func show(_ reply: CatroomClient.Reply, to command: Command)
    /// The `/query` target changed (nil: back to the room).
    func showQuery(_ target: String?)
    func showHelp()
    /// A conversation's stored history (`name`: the room's address or the member's
    /// nick), to show between separators before its live messages; never empty.
    func showHistory(_ entries: [HistoryEntry], of conversation: Conversation, named name: String)
    /// `/clear`: only the full-screen view has a scrollback to empty.
    func clear(_ command: Command)
}

extension ChatOutput {
    func clear(_ command: Command) {
        show(.notice("nothing to clear: /clear empties the full-screen view's scrollback"), to: command)
    }

    /// An event that concerns no room.
    func show(_ event: ClientEvent) { show(ClientUpdate(room: nil, event: event)) }
}

/// One chat: the client for every room joined, the room and `/query` plain lines go
/// to, and the commands that concern rooms (`/join`, `/part`, `/buffer`, `/query`,
/// `/quit`). Front ends feed it lines and render its output.
///
/// It holds the identity key: one per process, for every connection and every room
/// (from the profile, with `--profile`).
final class ChatSession: @unchecked Sendable {
    private(set) var configuration: ClientConfiguration
    private(set) var client: CatroomClient?
    /// The member of an open `/query`, resolved once: plain lines follow its key, not its name.
    private(set) var queryTarget: MemberInfo? {
        get { lock.withLock { query } }
        set { lock.withLock { query = newValue } }
    }
    private var query: MemberInfo?
    /// The room plain lines and commands go to (its canonical address); nil when in none.
    private(set) var currentRoom: String? {
        get { lock.withLock { current } }
        set { lock.withLock { current = newValue } }
    }
    private var current: String?
    /// `queryTarget` and `currentRoom` are read by the task that shows events too.
    private let lock = NSLock()
    private let output: ChatOutput
    private let identity: IdentityKeyPair
    /// Records what is shown, and gives back what was, when its profile keeps history.
    private let persona: Persona
    /// The members met and verified with that key, in every room (CR-0006 §5.10).
    private let known: KnownMembers
    private var running: [Task<Void, Never>] = []
    /// Why the current client is being left, for its final `disconnected` event.
    private var ending = Ending()
    private var started = false
    /// Called when a client stops by itself, not after `/part`, `/join` or `/quit`: the
    /// room given on the command line cannot be reached, or a connection is lost for good.
    /// After `/join`, a room that cannot be reached is shown and the chat goes on.
    var ended: (@Sendable (End) -> Void)?

    /// How a client stopped by itself.
    enum End: Sendable {
        /// The room given on the command line cannot be reached: the chat ends with it.
        case failed(ConnectFailure)
        /// The connection was lost and reconnecting is off, gave up, or met an error that cannot heal.
        case lost
    }

    init(configuration: ClientConfiguration, output: ChatOutput, persona: Persona = Persona()) {
        self.configuration = configuration
        self.output = output
        identity = persona.identity
        known = persona.known
        self.persona = persona
        persona.reportFailures { [output] text in output.show(ClientEvent.error(text)) }
        if let room = canonicalRoom(configuration.room) { self.configuration.room = room }
    }

    /// Joins `configuration.room` with the session's identity.
    func start() async {
        let client = CatroomClient(configuration: configuration, identity: identity, known: known)
        self.client = client
        let room = (try? configuration.roomJID())?.description ?? configuration.roomAddress
        currentRoom = room
        let (output, ended, persona) = (output, ended, persona)
        let ending = Ending()
        self.ending = ending
        let first = !started
        started = true
        await showHistory(of: .room(room), named: room)
        running.append(Task { await client.run() })
        running.append(Task {
            var failed = false
            for await update in client.events {
                if let room = update.room { persona.record(update.event, room: room) }
                switch update.event {
                case .failed where update.room != nil:
                    // One more room could not be joined: the others go on.
                    if self.currentRoom == update.room { self.currentRoom = client.rooms.last }
                    output.show(update)
                case .failed(let failure):
                    failed = true
                    // The room named at the start: the front end ends with it, and says so itself.
                    if first { ended?(.failed(failure)) } else { output.show(update) }
                case .disconnected where ending.reason != nil: break  // said once, below
                default: output.show(update)
                }
                if case .memberLeft(let member) = update.event, member.id == self.queryTarget?.id, client.rooms.count == 1 {
                    output.show(ClientUpdate(room: update.room, event: .error(
                        "\(member.nick), whom your /query sends to, left: plain lines are not sent to anyone else; /query alone returns to the room")))
                }
            }
            if let reason = ending.reason {
                output.show(ClientEvent.disconnected(reason: reason))
            } else if !client.hasLeft, !failed {
                ended?(.lost)
            }
        })
    }

    /// A full-screen buffer was chosen: its room, and its member for a private chat.
    func focus(room: String, query member: MemberInfo?) {
        currentRoom = room
        queryTarget = member
    }

    /// Handles one line; false when the user asked to quit.
    func handle(_ line: String) async -> Bool {
        guard let command = Command.parse(line) else { return true }
        switch command {
        case .quit:
            await stop(reason: "quit")
            return false
        case .help(nil):
            output.showHelp()
        case .clear:
            output.clear(command)
        case .help(let name?):
            output.show(Command.help(for: name).map(CatroomClient.Reply.notice) ?? .error("unknown command /\(name): /help lists them"), to: command)
        case .query(nil):
            queryTarget = nil
            output.showQuery(nil)
        case .close where queryTarget != nil:
            queryTarget = nil
            output.showQuery(nil)
        case .close:
            return await handle("/part")
        case .query(let typed?):
            do {
                guard let member = try await client?.member(named: typed, in: currentRoom) else {
                    output.show(.error("not in a room yet"), to: command)
                    return true
                }
                queryTarget = member
                output.showQuery(member.nick)
                if let peer = HistoryRecorder.identity(member) { await showHistory(of: .peer(peer), named: member.nick) }
            } catch {
                output.show(.error("\(error)"), to: command)
            }
        case .part:
            guard let client, let room = currentRoom, client.rooms.count > 1 else {
                await stop(reason: "left \(currentRoom ?? configuration.roomAddress)")
                currentRoom = nil
                output.show(.notice("/join <room> joins a room, /quit exits"), to: command)
                return true
            }
            do {
                try await client.part(room)
                queryTarget = nil
                currentRoom = client.rooms.last
                output.show(.notice("left \(room); now in \(currentRoom ?? "no room")"), to: command)
            } catch {
                output.show(.error("\(error)"), to: command)
            }
        case .join(let typed):
            // A name without a canonical form changes nothing.
            guard let room = canonicalRoom(typed, for: command) else { return true }
            queryTarget = nil
            guard let client else {
                configuration.room = room
                // A password and an invite secret belong to one room (CR-0008 §5.2).
                (configuration.roomPassword, configuration.invite, configuration.moreRooms) = (nil, nil, [])
                await start()
                return true
            }
            do {
                try await client.join(room)
                let address = try configuration.roomJID(room).description
                currentRoom = address
                await showHistory(of: .room(address), named: address)
            } catch {
                output.show(.error("\(error)"), to: command)
            }
        case .buffer(let typed):
            guard let client, let room = Self.room(typed, among: client.rooms) else {
                output.show(.error("no room \(typed): you are in \(client?.rooms.joined(separator: ", ") ?? "none")"), to: command)
                return true
            }
            queryTarget = nil
            currentRoom = room
            output.show(.notice("plain lines and commands now go to \(room)"), to: command)
        default:
            guard let client else { return true }
            let reply = await client.perform(command, in: currentRoom, queryTarget: queryTarget)
            // A new name also holds for the next /join.
            if case .nick(let nick) = command, case .none = reply { configuration.nick = nick }
            output.show(reply, to: command)
        }
        return true
    }

    /// The room `/buffer` names among those joined: by its number from 1, its name or its address.
    static func room(_ typed: String, among rooms: [String]) -> String? {
        if let number = Int(typed), rooms.indices.contains(number - 1) { return rooms[number - 1] }
        let name = typed.lowercased()
        return rooms.first { $0 == name || $0.hasPrefix(name + "@") }
    }

    private func showHistory(of conversation: Conversation, named name: String) async {
        let entries = await persona.history(of: conversation)
        if !entries.isEmpty { output.showHistory(entries, of: conversation, named: name) }
    }

    /// A room name as the user typed it, in its canonical form (CR-0005 §3.1): says so
    /// when that differs, and shows what is allowed when there is none.
    private func canonicalRoom(_ typed: String, for command: Command? = nil) -> String? {
        do {
            let room = try RoomName.canonical(typed)
            if room != typed { output.show(ClientEvent.notice("joining \(room): room names are lowercase")) }
            return room
        } catch {
            let text = "cannot join: \(error)"
            if let command { output.show(.error(text), to: command) } else { output.show(ClientEvent.error(text)) }
            return nil
        }
    }

    /// The plain-lines front ends: joins, then handles lines from standard input until
    /// `/quit` or the end of input (Ctrl-D, or a script closing the pipe), and leaves
    /// cleanly. When the client stops by itself first, how: the caller exits non-zero at
    /// once, without waiting for input to end.
    func runOnStandardInput() async -> End? {
        enum Input { case line(String), endOfInput, ended(End) }
        let (inputs, continuation) = AsyncStream.makeStream(of: Input.self)
        ended = { continuation.yield(.ended($0)) }
        let reader = Task {
            for await line in StandardInput.lines() { continuation.yield(.line(line)) }
            continuation.yield(.endOfInput)
        }
        defer { reader.cancel() }
        await start()
        for await input in inputs {
            switch input {
            case .line(let line):
                guard await handle(line) else { return nil }
            case .endOfInput:
                await stop(reason: "end of input")
                return nil
            case .ended(let end):
                await stop(reason: nil)
                return end
            }
        }
        return nil
    }

    /// Leaves the room; `reason` is what the final `disconnected` event says (none when
    /// the client already stopped by itself).
    func stop(reason: String?) async {
        ending.reason = reason
        await client?.leave()
        client = nil
        for task in running { await task.value }
        running = []
    }
}

/// Lines from standard input as an async sequence (a plain thread does the blocking reads).
enum StandardInput {
    static func lines() -> AsyncStream<String> {
        AsyncStream { continuation in
            let thread = Thread {
                while let line = readLine(strippingNewline: true) { continuation.yield(line) }
                continuation.finish()
            }
            thread.start()
        }
    }
}

/// Why a client is left, set before leaving and read by its event task.
private final class Ending: @unchecked Sendable {
    private let lock = NSLock()
    private var value: String?
    var reason: String? {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}
