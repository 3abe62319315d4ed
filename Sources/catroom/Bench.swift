import ArgumentParser
import CatroomBench

extension Catroom {
    /// Benchmarks, each with its baseline measured in the same run.
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure performance against baselines in the same run.",
            subcommands: [Crypto.self])

        struct Crypto: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Ratchet, X3DH and fan-out beside the libsodium calls they cannot avoid.",
                discussion: "Build with -c release for meaningful numbers: make bench.")

            @Flag(help: "Print JSON instead of a table.")
            var json = false

            @Flag(help: "A tenth of the samples: a smoke run, not a measurement.")
            var quick = false

            func run() throws {
                let rows = try CryptoBenchmark(quick: quick).run()
                print(json ? try CryptoBenchmark.json(rows) : CryptoBenchmark.table(rows))
            }
        }
    }
}
