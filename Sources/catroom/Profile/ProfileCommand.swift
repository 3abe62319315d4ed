import ArgumentParser
import CatroomCrypto
import CatroomProfile
import Foundation

extension Catroom {
    /// `catroom profile`: create, list, show, re-key and delete profiles.
    struct ProfileCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "profile",
            abstract: "Manage profiles: an identity and contacts kept across runs, encrypted with a passphrase.",
            discussion: """
                A profile (catroom join --profile NAME) keeps your identity key, so people who verified you \
                once see you verified again, and the contacts you met and verified. It is one SQLite file \
                under $XDG_DATA_HOME/catroom/profiles, every row sealed with a key derived from your \
                passphrase (Argon2id). A lost passphrase cannot be recovered, and neither can the profile. \
                The passphrase is asked on the terminal, or read from the file CATROOM_PASSPHRASE_FILE names.
                """,
            subcommands: [Create.self, List.self, Show.self, Settings.self, Passwd.self, Delete.self])

        struct Create: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create a profile with a new identity key.")

            @Argument(help: "The profile's name: 1 to 32 of a-z 0-9 . _ -, starting with a letter or digit.")
            var name: String

            /// The least Argon2id work libsodium accepts: for tests, which must stay fast.
            @Flag(help: "Keep the history of the rooms and private messages `catroom join --profile` shows (off by default).")
            var history = false

            @Option(help: "With --history: delete history older than this, as 30d or 12h (default: keep until deleted).")
            var keep: Keep?

            @Flag(help: .hidden)
            var testKDFLimits = false

            func validate() throws {
                try ProfileCommand.validate(name)
                if keep != nil, !history { throw ValidationError("--keep needs --history") }
            }

            func run() throws {
                try ProfileCommand.guarded {
                    guard !ProfileDirectory.standard().exists(name) else { throw ProfileError.exists(name) }
                    let passphrase = try Passphrase.request(prompt: "passphrase for the new profile \(name): ", confirm: true)
                    let profile = try Profile.create(
                        name, in: .standard(), passphrase: passphrase, limits: testKDFLimits ? .minimum : .moderate,
                        settings: ProfileSettings(history: history, keepSeconds: keep?.seconds))
                    print("created profile \(name); your fingerprint: \(profile.identity.publicKey.fingerprint)")
                    print(Settings.describe(profile.settings))
                    print("keep the passphrase safe: without it the profile cannot be opened, by you or anyone")
                }
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List the profiles (no passphrase needed).")

            func run() throws {
                let directory = ProfileDirectory.standard()
                let entries = directory.list()
                guard !entries.isEmpty else {
                    print("no profiles in \(directory.path): `catroom profile create <name>` makes one")
                    return
                }
                for entry in entries {
                    print("\(entry.name)  \(entry.bytes) bytes  changed \(entry.modified.formatted(.iso8601))")
                }
            }
        }

        struct Show: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show a profile's fingerprint and how many contacts it keeps.")

            @Argument(help: "The profile's name.")
            var name: String

            func validate() throws { try ProfileCommand.validate(name) }

            func run() throws {
                try ProfileCommand.guarded {
                    try ProfileCommand.requireExisting(name)
                    let profile = try Profile.open(name, in: .standard(), passphrase: Passphrase.request(prompt: "passphrase for \(name): "),
                                                   now: HistoryClock.now())
                    let verified = profile.contacts.filter { $0.verified != nil }.count
                    print("profile \(name)")
                    print("  fingerprint: \(profile.identity.publicKey.fingerprint)")
                    print("  account id:  \(profile.identity.publicKey.accountID)")
                    print("  contacts:    \(profile.contacts.count) (\(verified) verified)")
                    print("  history:     \(Settings.describe(profile.settings))")
                }
            }
        }

        struct Settings: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "set",
                abstract: "Change a profile's settings: whether it keeps history, and for how long.",
                discussion: """
                    --history off deletes the history already kept, for good. --keep deletes what is \
                    older at once, then at every start and hourly while catroom join runs.
                    """)

            @Argument(help: "The profile's name.")
            var name: String

            @Option(help: "on: keep the history of the rooms and private messages catroom join shows; off: keep none, and delete it.")
            var history: Switch?

            @Option(help: "Delete history older than this: 30d, 12h, or forever.")
            var keep: Keep?

            func validate() throws {
                try ProfileCommand.validate(name)
                if history == nil, keep == nil { throw ValidationError("give --history on|off, --keep, or both") }
            }

            func run() throws {
                try ProfileCommand.guarded {
                    try ProfileCommand.requireExisting(name)
                    let profile = try Profile.open(name, in: .standard(), passphrase: Passphrase.request(prompt: "passphrase for \(name): "),
                                                   now: HistoryClock.now())
                    var settings = profile.settings
                    if let history { settings.history = history == .on }
                    if let keep { settings.keepSeconds = keep.seconds }
                    try profile.changeSettings(settings, now: HistoryClock.now())
                    print("profile \(name): \(Self.describe(settings))")
                }
            }

            enum Switch: String, ExpressibleByArgument { case on, off }

            static func describe(_ settings: ProfileSettings) -> String {
                guard settings.history else { return "history off" }
                return "history on, " + (settings.keepSeconds.map { "kept \(Keep(seconds: $0))" } ?? "kept until deleted")
            }
        }

        /// A retention period: `30d`, `12h` (whole days or hours), or `forever`.
        struct Keep: ExpressibleByArgument, CustomStringConvertible {
            /// Nil: forever.
            let seconds: Int64?

            init(seconds: Int64?) { self.seconds = seconds }

            init?(argument: String) {
                if argument == "forever" {
                    seconds = nil
                    return
                }
                let unit: Int64? = switch argument.last {
                case "d": 86_400
                case "h": 3_600
                default: nil
                }
                // At most ten years: a typo of many digits is refused, not kept.
                guard let unit, let count = Int64(argument.dropLast()), count > 0, count <= 3_650 * 86_400 / unit else { return nil }
                seconds = count * unit
            }

            var description: String {
                guard let seconds else { return "forever" }
                return seconds % 86_400 == 0 ? "\(seconds / 86_400)d" : "\(seconds / 3_600)h"
            }
        }

        struct Passwd: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Change a profile's passphrase.",
                discussion: """
                    Only the wrapping of the profile's master key changes, and the old wrapping is wiped \
                    from the file. A copy made before still opens with the old passphrase. Without a \
                    terminal the new passphrase is read from the file CATROOM_NEW_PASSPHRASE_FILE names.
                    """)

            @Argument(help: "The profile's name.")
            var name: String

            @Flag(help: .hidden)
            var testKDFLimits = false

            func validate() throws { try ProfileCommand.validate(name) }

            func run() throws {
                try ProfileCommand.guarded {
                    try ProfileCommand.requireExisting(name)
                    let profile = try Profile.open(name, in: .standard(), passphrase: Passphrase.request(prompt: "current passphrase for \(name): "),
                                                   now: HistoryClock.now())
                    let new = try Passphrase.request(prompt: "new passphrase: ", confirm: true, fileVariable: "CATROOM_NEW_PASSPHRASE_FILE")
                    try profile.changePassphrase(to: new, limits: testKDFLimits ? .minimum : .moderate)
                    print("changed the passphrase of profile \(name)")
                }
            }
        }

        struct Delete: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Delete a profile: its identity and contacts are gone for good.",
                discussion: "Removes the database, its -wal and -shm files and its lock. Copies (backups) are not touched.")

            @Argument(help: "The profile's name.")
            var name: String

            @Flag(help: "Do not ask for confirmation.")
            var yes = false

            func validate() throws { try ProfileCommand.validate(name) }

            func run() throws {
                try ProfileCommand.guarded {
                    try ProfileCommand.requireExisting(name)
                    if !yes {
                        guard isatty(STDIN_FILENO) == 1 else { throw Passphrase.Failure(description: "not deleted: confirm with --yes") }
                        print("delete profile \(name), its identity key and its contacts, for good? Type its name to confirm: ", terminator: "")
                        guard readLine() == name else { throw Passphrase.Failure(description: "not deleted") }
                    }
                    try ProfileDirectory.standard().delete(name)
                    print("deleted profile \(name)")
                }
            }
        }

        static func validate(_ name: String) throws {
            do {
                try ProfileDirectory.validate(name)
            } catch {
                throw ValidationError(error.description)
            }
        }

        static func requireExisting(_ name: String) throws {
            guard ProfileDirectory.standard().exists(name) else { throw ProfileError.notFound(name) }
        }

        /// A failure as one line on standard error and exit status 5 (docs/user-guide.md).
        static func guarded<R>(_ body: () throws -> R) throws -> R {
            do {
                return try body()
            } catch let error as ProfileError {
                throw ExitStatus.fail(profile: error.description)
            } catch let error as Passphrase.Failure {
                throw ExitStatus.fail(profile: error.description)
            }
        }
    }
}
