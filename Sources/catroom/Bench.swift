import ArgumentParser

extension Catroom {
    /// Benchmarks, each with its baseline measured in the same run.
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure performance against baselines in the same run.",
            subcommands: [])
    }
}
