import ArgumentParser

@main
struct Catroom: AsyncParsableCommand {
    /// The one place the version is written: `--version` and `--json`'s `hello` show it.
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        abstract: "End-to-end encrypted group chat.",
        version: version,
        subcommands: [Join.self, Invite.self, ProfileCommand.self, History.self, Serve.self, SelfCheck.self, Bench.self])
}
