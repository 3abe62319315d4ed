import CatroomCrypto
import CatroomProtocol

/// An account: made by ephemeral registration with key possession (CR-0003), or
/// by plain XEP-0077 registration when the operator allows it.
struct Account: Sendable {
    enum Kind: Sendable, Equatable {
        /// Lives while one of its connections is open; its localpart is the key's account id.
        case ephemeral(IdentityKey)
        /// Lives as long as the server runs (interop and load tests).
        case plain
    }

    let localpart: String
    let kind: Kind
    let credentials: SCRAM.Credentials
    /// Connections that keep an ephemeral account alive: the one that registered it and every one authenticated as it.
    var connections: Set<ConnectionHandle> = []
    var bundle: StoredBundle?
    /// Bundle publications and fetches allowed (SECURITY-CASES SR-06).
    var publications: TokenBucket
    var fetches: TokenBucket

    init(localpart: String, kind: Kind, credentials: SCRAM.Credentials, connections: Set<ConnectionHandle> = [], limits: ServerConfiguration.Limits) {
        self.localpart = localpart
        self.kind = kind
        self.credentials = credentials
        self.connections = connections
        let publications = Double(limits.bundlePublicationsPerTenMinutes)
        self.publications = TokenBucket(rate: publications / 600, burst: publications)
        let fetches = Double(limits.bundleFetchesPerMinute)
        self.fetches = TokenBucket(rate: fetches / 60, burst: fetches)
    }

    var identityKey: IdentityKey? {
        if case .ephemeral(let key) = kind { key } else { nil }
    }
}
