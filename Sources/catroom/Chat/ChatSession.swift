import CatroomClient
import CatroomCrypto
import CatroomProtocol
import Foundation

/// What a front end shows: events from the client, replies to commands, local notes.
protocol ChatOutput: AnyObject, Sendable {
    func show(_ event: ClientEvent)
    func show(_ reply: CatroomClient.Reply)
    /// The `/query` target changed (nil: back to the room).
    func showQuery(_ target: String?)
    func showHelp()
}

/// One chat: the client for the current room, and the commands that outlive a room
/// (`/join`, `/part`, `/query`, `/quit`). Front ends feed it lines and render its output.
///
/// It owns the identity key: one per process, for every connection and every room.
final class ChatSession: @unchecked Sendable {
    private(set) var configuration: ClientConfiguration
    private(set) var client: CatroomClient?
    /// The member of an open `/query`, resolved once: plain lines follow its key, not its name.
    private(set) var queryTarget: MemberInfo? {
        get { lock.withLock { query } }
        set { lock.withLock { query = newValue } }
    }
    private var query: MemberInfo?
    /// `queryTarget` is read by the task that shows events too.
    private let lock = NSLock()
    private let output: ChatOutput
    private let identity = IdentityKeyPair.generate()
    private var running: [Task<Void, Never>] = []
    /// Called when a client stops for good by itself (the server is gone and reconnecting
    /// is off or gave up, or an error that cannot heal), not after `/part`, `/join` or `/quit`.
    var ended: (@Sendable () -> Void)?

    init(configuration: ClientConfiguration, output: ChatOutput) {
        self.configuration = configuration
        self.output = output
        if let room = canonicalRoom(configuration.room) { self.configuration.room = room }
    }

    /// Joins `configuration.room` with the session's identity.
    func start() {
        let client = CatroomClient(configuration: configuration, identity: identity)
        self.client = client
        let (output, ended) = (output, ended)
        running.append(Task { await client.run() })
        running.append(Task {
            for await event in client.events {
                output.show(event)
                if case .memberLeft(let member) = event, member.id == self.queryTarget?.id {
                    output.show(ClientEvent.error(
                        "\(member.nick), whom your /query sends to, left: plain lines are not sent to anyone else; /query alone returns to the room"))
                }
            }
            if !client.hasLeft { ended?() }
        })
    }

    /// Handles one line; false when the user asked to quit.
    func handle(_ line: String) async -> Bool {
        guard let command = Command.parse(line) else { return true }
        switch command {
        case .quit:
            await stop()
            return false
        case .help:
            output.showHelp()
        case .query(nil):
            queryTarget = nil
            output.showQuery(nil)
        case .query(let typed?):
            do {
                guard let member = try await client?.member(named: typed) else {
                    output.show(ClientEvent.error("not in a room yet"))
                    return true
                }
                queryTarget = member
                output.showQuery(member.nick)
            } catch {
                output.show(ClientEvent.error("\(error)"))
            }
        case .part:
            await stop()
            output.show(ClientEvent.notice("left \(configuration.roomAddress); /join <room> or /quit"))
        case .join(let typed):
            // A name without a canonical form leaves the current room as it is.
            guard let room = canonicalRoom(typed) else { return true }
            await stop()
            configuration.room = room
            // An invite secret belongs to one room (CR-0008 §5.2).
            configuration.invite = nil
            queryTarget = nil
            start()
        default:
            guard let client else { return true }
            let reply = await client.perform(command, queryTarget: queryTarget)
            // A new name also holds for the next /join.
            if case .nick(let nick) = command, case .none = reply { configuration.nick = nick }
            output.show(reply)
        }
        return true
    }

    /// A room name as the user typed it, in its canonical form (CR-0005 §3.1): says so
    /// when that differs, and shows what is allowed when there is none.
    private func canonicalRoom(_ typed: String) -> String? {
        do {
            let room = try RoomName.canonical(typed)
            if room != typed { output.show(ClientEvent.notice("joining \(room): room names are lowercase")) }
            return room
        } catch {
            output.show(ClientEvent.error("cannot join: \(error)"))
            return nil
        }
    }

    /// The plain-lines front ends: joins, then handles lines from standard input until
    /// `/quit` or the end of input (Ctrl-D, or a script closing the pipe), and leaves
    /// cleanly. False when the connection ended for good first: the caller exits non-zero
    /// at once, without waiting for input to end.
    func runOnStandardInput() async -> Bool {
        enum Input { case line(String), endOfInput, ended }
        let (inputs, continuation) = AsyncStream.makeStream(of: Input.self)
        ended = { continuation.yield(.ended) }
        let reader = Task {
            for await line in StandardInput.lines() { continuation.yield(.line(line)) }
            continuation.yield(.endOfInput)
        }
        defer { reader.cancel() }
        start()
        for await input in inputs {
            switch input {
            case .line(let line):
                guard await handle(line) else { return true }
            case .endOfInput:
                await stop()
                return true
            case .ended:
                await stop()
                return false
            }
        }
        return true
    }

    func stop() async {
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
