import Foundation

/// `/contacts` and `/forget`: the known members a profile keeps (CR-0006 §5.10).
extension CatroomClient {
    static let needsProfile = "needs a profile, where contacts are kept: start catroom join with --profile <name> (`catroom profile create <name>` makes one)"

    func contactList() -> Reply {
        guard known.isPersistent else { return .error("/contacts \(Self.needsProfile)") }
        return .contacts(known.contacts())
    }

    /// Forgets the one contact `typed` means: `name`, `name#fingerprint` or `#fingerprint`
    /// (at least four hex digits), as a typed member name (CR-0006 §5.4).
    func forget(_ typed: String) -> Reply {
        guard known.isPersistent else { return .error("/forget \(Self.needsProfile)") }
        var chosen = typed
        var prefix = ""
        if let hash = typed.lastIndex(of: "#") {
            chosen = String(typed[..<hash])
            prefix = typed[typed.index(after: hash)...].lowercased().replacingOccurrences(of: " ", with: "")
            guard prefix.count >= 4, prefix.allSatisfy(\.isHexDigit) else { return .error("after # give at least four hex digits of the fingerprint") }
        }
        let candidates = known.contacts().filter { contact in
            (chosen.isEmpty || contact.name.map { DisplayName.clash($0, chosen) } == true)
                && contact.identity.fingerprint.replacingOccurrences(of: " ", with: "").hasPrefix(prefix)
        }
        guard let contact = candidates.first else { return .error("no contact called \(typed): /contacts lists them") }
        guard candidates.count == 1 else {
            let names = candidates.map { Self.shown($0) }
            return .error("ambiguous: \(names.dropLast().joined(separator: ", ")) or \(names[names.count - 1])")
        }
        known.forget(contact.identity)
        return .notice("forgot \(Self.shown(contact)): its name, verification and private history are gone from your profile")
    }

    /// `name#1a2b3c4d`, or `unnamed#…` for a key that never had a name.
    static func shown(_ contact: KnownMembers.Contact) -> String {
        (contact.name ?? DisplayName.fallback) + "#" + String(contact.identity.fingerprint.prefix(8))
    }
}
