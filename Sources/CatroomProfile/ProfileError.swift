/// Every expected failure of a profile, each a sentence for the user.
public enum ProfileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The name is not `[a-z0-9][a-z0-9._-]{0,31}`.
    case invalidName(String)
    /// No profile of that name exists.
    case notFound(String)
    /// `create` found one already.
    case exists(String)
    /// Another process holds the profile's lock.
    case inUse(String)
    /// The key record did not authenticate: a wrong passphrase (or a damaged key record).
    case wrongPassphrase(String)
    /// The file is not a profile, or a part of it is damaged or failed to authenticate.
    case damaged(name: String, detail: String)
    /// Written by a newer catroom, with a schema this one does not know.
    case newerSchema(name: String, version: Int64)
    /// The passphrase is empty, or the two entries differ.
    case badPassphrase(String)
    /// Any other failure of the file system or SQLite.
    case storage(name: String, detail: String)

    public var description: String {
        switch self {
        case .invalidName(let name):
            "\(name.debugDescription) is not a profile name: 1 to 32 of a-z 0-9 . _ -, starting with a letter or digit"
        case .notFound(let name): "there is no profile \(name): create it with `catroom profile create \(name)`"
        case .exists(let name): "profile \(name) exists already (`catroom profile delete \(name)` removes it)"
        case .inUse(let name): "profile \(name) is in use by another catroom process"
        case .wrongPassphrase(let name): "wrong passphrase for profile \(name) (or its key record is damaged); nothing was changed"
        case .damaged(let name, let detail): "profile \(name) is damaged: \(detail); restore it from a backup or delete it"
        case .newerSchema(let name, let version):
            "profile \(name) was written by a newer catroom (schema version \(version)): upgrade catroom to open it"
        case .badPassphrase(let reason): reason
        case .storage(let name, let detail): "profile \(name): \(detail)"
        }
    }
}
