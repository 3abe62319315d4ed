import ArgumentParser
import CatroomBench
import Foundation

extension Catroom.Bench {
    /// `catroom bench join`: from `catroom join` until the new member can message everyone.
    struct JoinTime: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "join",
            abstract: "Time a new member's join until every key exchange is done, in rooms of given sizes.",
            discussion: "Runs its own server and room members in-process on loopback (TLS, pinned); build with -c release.")

        @Option(parsing: .upToNextOption, help: "Room sizes, the newcomer included.")
        var members: [Int] = [10, 50]

        @Option(help: "Joins measured per size and mode.")
        var repeats = 5

        @Flag(help: "Also time `catroom join --json` as a process (this binary), start-up included.")
        var process = false

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        // JoinBenchmark indexes its samples and counts the other members from these: zero would crash it.
        func validate() throws {
            guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
            guard !members.isEmpty, members.allSatisfy({ $0 >= 1 }) else {
                throw ValidationError("--members must be room sizes of at least 1 (the newcomer included)")
            }
        }

        func run() async throws {
            let binary = process ? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path : nil
            let rows = try await JoinBenchmark(sizes: members, repeats: repeats, binary: binary).run()
            print(json ? try JoinBenchmark.json(rows) : JoinBenchmark.table(rows))
        }
    }
}
