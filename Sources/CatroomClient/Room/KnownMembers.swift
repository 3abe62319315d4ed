import CatroomCrypto
import Foundation
import NIOConcurrencyHelpers

/// What a client remembers of the members it met, by identity key (CR-0006 §5.10):
/// the name each last used, whether the user verified it, and since when it holds that
/// name. It outlives one connection, so a member who comes back with the same key is
/// recognised and stays verified, and a known name arriving with another key is flagged.
/// One per identity: `/join` hands the same one to the next room's client. With a
/// profile it starts from the profile's contacts and writes every change through.
public final class KnownMembers: Sendable {
    /// A remembered key as a profile stores it.
    public struct Contact: Sendable, Equatable {
        public let identity: IdentityKey
        /// The last name it chose; nil if none was accepted.
        public var name: String?
        /// When the user verified it; nil if not.
        public var verified: Date?
        public var firstSeen: Date
        /// Its last hello or rename.
        public var lastSeen: Date

        public init(identity: IdentityKey, name: String?, verified: Date?, firstSeen: Date, lastSeen: Date) {
            self.identity = identity
            self.name = name
            self.verified = verified
            self.firstSeen = firstSeen
            self.lastSeen = lastSeen
        }
    }

    /// A change to write through to a profile.
    public enum Change: Sendable, Equatable {
        case updated(Contact)
        case forgotten(IdentityKey)
    }

    struct Record: Sendable {
        /// The last name it chose, as shown without suffix; nil if none was accepted.
        var name: String?
        /// The confusable skeleton of `name` (UTS #39 §4), kept to compare names quickly.
        var skeleton: [Unicode.Scalar]?
        /// When it took `name`, in this client's order of events: the earliest holder of a
        /// name shows it plain (CR-0006 §5.4).
        var claim: UInt64
        /// When the user verified it.
        var verified: Date?
        /// `/ignore`: its messages are not shown (still read and acknowledged). Not kept in a profile.
        var ignored = false
        /// When it was last active, for the bound on how many are kept.
        var used: UInt64
        var firstSeen: Date
        var lastSeen: Date
    }

    /// At most this many keys are remembered; the least recently active are forgotten.
    static let capacity = 4096

    private let state = NIOLockedValueBox<(records: [IdentityKey: Record], clock: UInt64)>(([:], 0))
    /// Receives every change in order, under the lock: it must only hand it on.
    private let persist: (@Sendable (Change) -> Void)?

    /// Whether changes are written to a profile (`/contacts` and `/forget` need one).
    public var isPersistent: Bool { persist != nil }

    /// Starts from a profile's `contacts` (earliest first seen holds its name first:
    /// claims are not stored) and hands every later change to `persist`.
    public init(contacts: [Contact] = [], persist: (@Sendable (Change) -> Void)? = nil) {
        self.persist = persist
        state.withLockedValue { state in
            for contact in contacts.sorted(by: { $0.firstSeen < $1.firstSeen }).prefix(Self.capacity) {
                state.clock += 1
                state.records[contact.identity] = Record(
                    name: contact.name, skeleton: contact.name.map(Confusables.skeleton), claim: state.clock,
                    verified: contact.verified, used: state.clock, firstSeen: contact.firstSeen, lastSeen: contact.lastSeen)
            }
        }
    }

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
        let now = Date()
        state.withLockedValue { state in
            state.clock += 1
            var record = state.records[key] ?? Record(name: nil, claim: claim, used: state.clock, firstSeen: now, lastSeen: now)
            if record.name != name {
                record.name = name
                record.skeleton = name.map(Confusables.skeleton)
                record.claim = claim
            }
            record.used = state.clock
            record.lastSeen = now
            state.records[key] = record
            persist?(.updated(Self.contact(key, record)))
            if state.records.count > Self.capacity, let oldest = state.records.min(by: { $0.value.used < $1.value.used }) {
                state.records[oldest.key] = nil
                persist?(.forgotten(oldest.key))
            }
        }
    }

    /// Marks `key` verified; a key verified before keeps its first date.
    func verify(_ key: IdentityKey) {
        let now = Date()
        state.withLockedValue { state in
            state.clock += 1
            var record = state.records[key] ?? Record(name: nil, claim: state.clock, used: state.clock, firstSeen: now, lastSeen: now)
            record.verified = record.verified ?? now
            state.records[key] = record
            persist?(.updated(Self.contact(key, record)))
        }
    }

    func setIgnored(_ key: IdentityKey, _ ignored: Bool) {
        let now = Date()
        state.withLockedValue { state in
            state.clock += 1
            state.records[key, default: Record(name: nil, claim: state.clock, used: state.clock, firstSeen: now, lastSeen: now)].ignored = ignored
        }
    }

    func isIgnored(_ key: IdentityKey) -> Bool {
        state.withLockedValue { $0.records[key]?.ignored ?? false }
    }

    /// The last names of the keys ignored.
    func ignored() -> [(name: String?, key: IdentityKey)] {
        state.withLockedValue { $0.records.filter(\.value.ignored).map { (name: $0.value.name, key: $0.key) } }
    }

    /// Every remembered key, by name.
    func contacts() -> [Contact] {
        state.withLockedValue { $0.records.map(Self.contact) }
            .sorted { ($0.name ?? "", $0.identity.fingerprint) < ($1.name ?? "", $1.identity.fingerprint) }
    }

    /// Forgets `key`: its name, claim and verification.
    func forget(_ key: IdentityKey) {
        state.withLockedValue { state in
            guard state.records.removeValue(forKey: key) != nil else { return }
            persist?(.forgotten(key))
        }
    }

    /// Every other key remembered with a name that looks like `name` (CR-0006 §5.4), earliest claim first.
    func holders(of name: String, except key: IdentityKey?) -> [(key: IdentityKey, record: Record)] {
        let skeleton = Confusables.skeleton(name)
        let records = state.withLockedValue { $0.records }
        return records.filter { $0.key != key && $0.value.skeleton == skeleton }
            .map { (key: $0.key, record: $0.value) }
            .sorted { $0.record.claim < $1.record.claim }
    }

    private static func contact(_ key: IdentityKey, _ record: Record) -> Contact {
        Contact(identity: key, name: record.name, verified: record.verified, firstSeen: record.firstSeen, lastSeen: record.lastSeen)
    }
}
