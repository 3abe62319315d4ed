import ArgumentParser

@main
struct Catroom: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "End-to-end encrypted group chat.",
        subcommands: [Join.self, Invite.self, Serve.self, SelfCheck.self, Bench.self])
}
