import ArgumentParser
import CatroomClient
import CatroomCrypto
import CatroomProfile
import CatroomProtocol
import Foundation

extension Catroom {
    /// `catroom history`: print (or delete) the history a profile keeps of a room or a contact.
    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the history a profile keeps of a room, or of private messages with a contact.",
            discussion: """
                Needs a profile that keeps history (catroom profile create NAME --history, or catroom profile set \
                NAME --history on) and its passphrase. The room is named as for catroom join, on --server \
                (or --domain); or give its address, as name@rooms.domain.
                """)

        @Argument(help: "The room (leave out with --private).")
        var room: String?

        @Option(name: .customLong("private"), help: "A contact, by name or as #fingerprint (at least four hex digits): your private messages with it.")
        var peer: String?

        @Option(help: "The profile (default: $CATROOM_PROFILE).")
        var profile: String?

        @Option(help: "The server the room is on, as for catroom join.")
        var server = "localhost"

        @Option(help: "The XMPP domain, if it differs from --server.")
        var domain: String?

        @Flag(help: "One JSON object, as catroom join --json's history event.")
        var json = false

        @Flag(help: "Delete this history from the profile, for good, instead of printing it.")
        var delete = false

        func validate() throws {
            if (room == nil) == (peer == nil) { throw ValidationError("give a room, or --private with a contact, not both") }
            guard let name = profileName else { throw ValidationError("give the profile with --profile (or CATROOM_PROFILE)") }
            try ProfileCommand.validate(name)
        }

        var profileName: String? {
            profile ?? ProcessInfo.processInfo.environment["CATROOM_PROFILE"].flatMap { $0.isEmpty ? nil : $0 }
        }

        func run() throws {
            try ProfileCommand.guarded {
                guard let name = profileName else { return }
                try ProfileCommand.requireExisting(name)
                let opened = try Profile.open(name, in: .standard(), passphrase: Passphrase.request(prompt: "passphrase for \(name): "),
                                              now: HistoryClock.now())
                guard opened.settings.history else {
                    throw Passphrase.Failure(description: "profile \(name) keeps no history (`catroom profile set \(name) --history on` turns it on)")
                }
                let (conversation, title) = try resolve(in: opened)
                if delete {
                    let count = try opened.deleteHistory(of: conversation)
                    print("deleted \(count) entr\(count == 1 ? "y" : "ies") of \(title) from profile \(name)")
                    return
                }
                let entries = try opened.history(of: conversation)
                guard !entries.isEmpty else { throw Passphrase.Failure(description: "profile \(name) keeps no history of \(title)") }
                if json {
                    let output = JSONOutput()
                    output.showHistory(entries, of: conversation, named: title)
                } else {
                    for entry in entries { print(HistoryText.line(entry)) }
                }
            }
        }

        /// The room's address, or the one contact `--private` names.
        private func resolve(in profile: Profile) throws -> (Conversation, String) {
            if let room {
                if room.contains("@") { return (.room(room.lowercased()), room.lowercased()) }
                do {
                    // The address catroom join records under: ClientConfiguration's.
                    let address = try ServerAddress(parsing: server)
                    let configuration = ClientConfiguration(
                        host: address.host, domain: domain, room: try RoomName.canonical(room), nick: "history", trust: .insecure)
                    return (.room(configuration.roomAddress), configuration.roomAddress)
                } catch {
                    throw Passphrase.Failure(description: "cannot name that room: \(error)")
                }
            }
            let typed = peer ?? ""
            let matches = profile.contacts.filter { contact in
                if typed.hasPrefix("#") {
                    let prefix = typed.dropFirst().lowercased()
                    return prefix.count >= 4 && contact.identity.fingerprint.replacingOccurrences(of: " ", with: "").hasPrefix(prefix)
                }
                return contact.name?.lowercased() == typed.lowercased()
            }
            guard let contact = matches.first else { throw Passphrase.Failure(description: "no contact \(typed) in profile \(profile.name)") }
            guard matches.count == 1 else { throw Passphrase.Failure(description: "\(typed) names several contacts: give #fingerprint") }
            return (.peer(contact.identity), contact.name ?? typed)
        }
    }
}
