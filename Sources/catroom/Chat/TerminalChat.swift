import CatroomClient

/// The interactive terminal front end.
struct TerminalChat {
    let configuration: ClientConfiguration

    func run() async throws {
        let session = ChatSession(configuration: configuration, output: LineOutput())
        session.start()
        for await line in StandardInput.lines() {
            guard await session.handle(line) else { return }
        }
        await session.stop()
    }
}
