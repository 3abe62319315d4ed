import CatroomCrypto
import NIOConcurrencyHelpers

/// One connection's pairwise sessions and prekeys, shared by every room it is in: one
/// session per member pair, whatever the number of rooms they share (CR-0006 §5.1, §5.9).
///
/// Each room's engine marks the members it holds; a session is deleted once no room
/// holds its member any more.
final class SharedSessions: Sendable {
    private let state: NIOLockedValueBox<(store: SessionStore, holders: [String: Set<String>])>

    init(_ store: SessionStore) {
        state = NIOLockedValueBox((store, [:]))
    }

    var identity: IdentityKeyPair { state.withLockedValue { $0.store.identity } }

    /// A copy of the store as it is now (the `engine` fuzz target compares them).
    var snapshot: SessionStore { state.withLockedValue { $0.store } }

    /// Runs `body` on the store; what it changes stays only if it returns (it never
    /// suspends, so sessions are never seen half changed).
    func withStore<T>(_ body: (inout SessionStore) throws -> T) rethrows -> T {
        try state.withLockedValue { try body(&$0.store) }
    }

    /// The members a session is held with now.
    var peers: [String] { state.withLockedValue { state in state.holders.keys.filter { state.store.session(with: $0) != nil }.sorted() } }

    func session(with peer: String) -> SessionRecord? { state.withLockedValue { $0.store.session(with: peer) } }

    /// `room` counts `peer` among its occupants.
    func hold(_ peer: String, in room: String) {
        state.withLockedValue { _ = $0.holders[peer, default: []].insert(room) }
    }

    /// Whether a room other than `room` holds `peer`: then it is met there, not returning.
    func isHeld(_ peer: String, elsewhere room: String) -> Bool {
        state.withLockedValue { !($0.holders[peer] ?? []).subtracting([room]).isEmpty }
    }

    /// `peer` left `room` (or this client did): its session goes with the last room that held it (CR-0006 §5.9).
    func release(_ peer: String, from room: String) {
        state.withLockedValue { state in
            state.holders[peer]?.remove(room)
            guard state.holders[peer]?.isEmpty ?? true else { return }
            state.holders[peer] = nil
            state.store.removeSession(with: peer)
        }
    }
}
