import ArgumentParser
import CatroomBench
import Foundation

extension Catroom.Bench {
    /// `catroom bench soak`: chatting, churn and hostile connections against one server for a while.
    struct Soak: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Chatting clients, churn and a hostile loop against one server: delivery and RSS over time.",
            discussion: """
                Starts `catroom serve` (this binary) on loopback and drives real catroom clients against it. \
                Fails (exit 1) when a well-behaved client's message misses a member that stayed in the room, \
                when a hostile connection is not refused, or when the server's RSS grows past --max-growth-mib \
                after warm-up. docs/security-testing.md describes the hour-long run.
                """)

        @Option(help: "Minutes of load (the drain and set-up come on top).")
        var minutes: Double?

        @Option(help: "Seconds of load, for short runs; instead of --minutes.")
        var seconds: Double?

        @Option(help: "Rooms, each with its chatting clients and one churning seat.")
        var rooms = 3

        @Option(help: "Chatting clients per room.")
        var chatters = 3

        @Option(help: "Mean seconds between two messages of one chatting client.")
        var messageInterval = 2.0

        @Option(help: "Seconds between two RSS samples of the server.")
        var sampleSeconds = 10.0

        @Option(help: "Largest RSS growth after warm-up, in MiB (median of the last quarter of samples over the first).")
        var maxGrowthMib = 16

        @Option(help: "Write the JSON report to this file.")
        var report: String?

        @Option(help: "Write the RSS and delivery curve as an SVG to this file.")
        var svg: String?

        @Flag(help: "Print JSON instead of text.")
        var json = false

        var options: SoakBenchmark.Options {
            var options = SoakBenchmark.Options(binary: URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path)
            options.seconds = seconds ?? (minutes ?? 10) * 60
            options.rooms = rooms
            options.chattersPerRoom = chatters
            options.messageInterval = messageInterval
            options.sampleSeconds = sampleSeconds
            options.maxGrowthMiB = maxGrowthMib
            return options
        }

        func validate() throws {
            if minutes != nil && seconds != nil { throw ValidationError("--minutes and --seconds exclude each other") }
            let problems = options.problems()
            guard problems.isEmpty else { throw ValidationError(problems.joined(separator: "\n")) }
        }

        func run() async throws {
            let result = try await SoakBenchmark(options: options).run()
            if let report { try Data(try result.json().utf8).write(to: URL(fileURLWithPath: report)) }
            if let svg { try Data(result.svg().utf8).write(to: URL(fileURLWithPath: svg)) }
            print(json ? try result.json() : result.text())
            if !result.passed { throw ExitCode.failure }
        }
    }
}
