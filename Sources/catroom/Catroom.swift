import ArgumentParser

@main
struct Catroom: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "End-to-end encrypted group chat.",
        subcommands: [SelfCheck.self, Bench.self])
}
