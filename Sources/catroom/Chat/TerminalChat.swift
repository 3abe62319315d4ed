import ArgumentParser
import CatroomClient
import CatroomProfile
import Foundation

/// The interactive terminal front end: a full-screen chat (scrollback, status line,
/// input line) in raw mode on the alternate screen, without any library beyond termios.
///
/// Everything that happens reaches one task as a `TerminalFrontEnd.Event`: keys from a
/// reader thread, events and replies from the chat session, signals from dispatch
/// sources. SIGINT, SIGTERM and SIGHUP, like Ctrl-C and Ctrl-D, leave the room and exit
/// with status 0; the terminal is restored on every way out (see `TerminalDevice`).
struct TerminalChat {
    let configuration: ClientConfiguration
    /// The bell and the title on a mention or a private message (`--no-alerts`: off).
    var alerts = true
    var persona = Persona()

    func run() async throws {
        do {
            try TerminalDevice.enter()
        } catch {
            FileHandle.standardError.write(Data("catroom: cannot drive this terminal (\(error)); using plain lines\n".utf8))
            switch await ChatSession(configuration: configuration, output: LineOutput(), persona: persona).runOnStandardInput() {
            case nil: return
            case .failed(let failure): throw ExitStatus.fail(failure)
            case .lost: throw ExitStatus.lost
            }
        }
        defer { TerminalDevice.leave() }

        let (events, continuation) = AsyncStream.makeStream(of: TerminalFrontEnd.Event.self)
        let signals = Self.watchSignals(continuation)
        defer { signals.forEach { $0.cancel() } }
        TerminalInputReader.start(
            descriptor: STDIN_FILENO,
            keys: { keys in
                // Ctrl-C must end the program even if a command is stuck.
                if keys.contains(.control("c")) { TerminalDevice.exitAfter(seconds: 3) }
                continuation.yield(.keys(keys))
            },
            closed: { continuation.yield(.inputClosed) })

        let session = ChatSession(configuration: configuration, output: TerminalOutput(continuation), persona: persona)
        session.ended = { end in
            switch end {
            case .failed(let failure): continuation.yield(.failed(failure))
            case .lost: continuation.yield(.chat(ClientUpdate(room: nil, event: .notice("/join <room> connects again, /quit leaves"))))
            }
        }
        let frontEnd = TerminalFrontEnd(
            session: session, size: TerminalDevice.size(), palette: TerminalPalette(), unicode: TerminalTranscript.localeIsUTF8(),
            alerts: alerts)
        await session.start()
        let outcome = await frontEnd.run(events)
        TerminalDevice.leave()
        switch outcome {
        case .quit: break
        case .interrupted:
            TerminalDevice.exitAfter(seconds: 3)
            await session.stop(reason: "quit")
        case .failed(let failure):
            // The screen is gone: the reason goes where the shell shows it.
            TerminalDevice.exitAfter(seconds: 3, status: ExitStatus.of(failure.kind))
            await session.stop(reason: nil)
            throw ExitStatus.fail(failure)
        }
        if let farewell = frontEnd.farewell { FileHandle.standardError.write(Data((farewell + "\n").utf8)) }
    }

    /// SIGINT, SIGTERM and SIGHUP end the chat cleanly; SIGWINCH redraws; SIGCONT
    /// re-enters raw mode after a stop.
    private static func watchSignals(_ continuation: AsyncStream<TerminalFrontEnd.Event>.Continuation) -> [DispatchSourceSignal] {
        let queue = DispatchQueue(label: "catroom.terminal-signals")
        return [SIGINT, SIGTERM, SIGHUP, SIGWINCH, SIGCONT].map { number in
            if number != SIGCONT { signal(number, SIG_IGN) }
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                switch number {
                case SIGWINCH: continuation.yield(.resize)
                case SIGCONT: continuation.yield(.resumed)
                default:
                    TerminalDevice.exitAfter(seconds: 3)
                    continuation.yield(.signal(number))
                }
            }
            source.resume()
            return source
        }
    }
}

/// The session's output, handed to the front end's task in order.
final class TerminalOutput: ChatOutput {
    private let continuation: AsyncStream<TerminalFrontEnd.Event>.Continuation

    init(_ continuation: AsyncStream<TerminalFrontEnd.Event>.Continuation) { self.continuation = continuation }

    func show(_ update: ClientUpdate) { continuation.yield(.chat(update)) }
    func show(_ reply: CatroomClient.Reply, to command: Command) { continuation.yield(.reply(reply)) }
    func showQuery(_ target: String?) { continuation.yield(.query(target)) }
    func showHelp() { continuation.yield(.help) }
    func showHistory(_ entries: [HistoryEntry], of conversation: Conversation, named name: String) {
        let key: TerminalBuffers.Buffer.Key = switch conversation {
        case .room(let room): .room(room)
        case .peer(let identity): .peer(identity.accountID)
        }
        continuation.yield(.history(entries, key))
    }
    func clear(_ command: Command) { continuation.yield(.clear) }
}
