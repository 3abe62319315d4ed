import CatroomCrypto
import NIOConcurrencyHelpers

/// What a client remembers of the members it met, by identity key (CR-0006 §5.10):
/// the name each last used, whether the user verified it, and since when it holds that
/// name. It outlives one connection, so a member who comes back with the same key is
/// recognised and stays verified, and a known name arriving with another key is flagged.
/// One per identity: `/join` hands the same one to the next room's client.
public final class KnownMembers: Sendable {
    struct Record: Sendable {
        /// The last name it chose, as shown without suffix; nil if none was accepted.
        var name: String?
        /// The confusable skeleton of `name` (UTS #39 §4), kept to compare names quickly.
        var skeleton: [Unicode.Scalar]?
        /// When it took `name`, in this client's order of events: the earliest holder of a
        /// name shows it plain (CR-0006 §5.4).
        var claim: UInt64
        var verified = false
        /// `/ignore`: its messages are not shown (still read and acknowledged).
        var ignored = false
        /// When it was last active, for the bound on how many are kept.
        var used: UInt64
    }

    /// At most this many keys are remembered; the least recently active are forgotten.
    static let capacity = 4096

    private let state = NIOLockedValueBox<(records: [IdentityKey: Record], clock: UInt64)>(([:], 0))

    public init() {}

    /// A number later than every one handed out before: the order of arrivals and renames.
    func nextClaim() -> UInt64 {
        state.withLockedValue { state in
            state.clock += 1
            return state.clock
        }
    }

    func record(of key: IdentityKey) -> Record? {
        state.withLockedValue { $0.records[key] }
    }

    /// Records that `key` uses `name` since `claim`; the same name again keeps the earlier claim.
    func remember(_ key: IdentityKey, name: String?, claim: UInt64) {
        state.withLockedValue { state in
            state.clock += 1
            var record = state.records[key] ?? Record(name: nil, claim: claim, used: state.clock)
            if record.name != name {
                record.name = name
                record.skeleton = name.map(Confusables.skeleton)
                record.claim = claim
            }
            record.used = state.clock
            state.records[key] = record
            if state.records.count > Self.capacity, let oldest = state.records.min(by: { $0.value.used < $1.value.used }) {
                state.records[oldest.key] = nil
            }
        }
    }

    func verify(_ key: IdentityKey) {
        state.withLockedValue { state in
            state.clock += 1
            state.records[key, default: Record(name: nil, claim: state.clock, used: state.clock)].verified = true
        }
    }

    func setIgnored(_ key: IdentityKey, _ ignored: Bool) {
        state.withLockedValue { state in
            state.clock += 1
            state.records[key, default: Record(name: nil, claim: state.clock, used: state.clock)].ignored = ignored
        }
    }

    func isIgnored(_ key: IdentityKey) -> Bool {
        state.withLockedValue { $0.records[key]?.ignored ?? false }
    }

    /// The last names of the keys ignored, with their fingerprints' first group.
    func ignored() -> [(name: String?, key: IdentityKey)] {
        state.withLockedValue { $0.records.filter(\.value.ignored).map { (name: $0.value.name, key: $0.key) } }
    }

    func isVerified(_ key: IdentityKey) -> Bool {
        state.withLockedValue { $0.records[key]?.verified ?? false }
    }

    /// Every other key remembered with a name that looks like `name` (CR-0006 §5.4), earliest claim first.
    func holders(of name: String, except key: IdentityKey?) -> [(key: IdentityKey, record: Record)] {
        let skeleton = Confusables.skeleton(name)
        let records = state.withLockedValue { $0.records }
        return records.filter { $0.key != key && $0.value.skeleton == skeleton }
            .map { (key: $0.key, record: $0.value) }
            .sorted { $0.record.claim < $1.record.claim }
    }
}
