/// MKSKIPPED (Double Ratchet §3.2): message keys of messages not yet received,
/// by (ratchet public key, message number), capped at `Limits.maxSkippedKeys`
/// with the oldest evicted first (§6.4).
struct SkippedMessageKeys: Sendable {
    struct Index: Hashable, Sendable {
        let ratchetKey: X25519.PublicKey
        let messageNumber: UInt32
    }

    private var keys: [Index: MessageKey] = [:]
    /// Insertion order; entries already used are skipped lazily and compacted away.
    private var order = FIFOQueue<Index>()

    var count: Int { keys.count }

    func key(for index: Index) -> MessageKey? { keys[index] }

    mutating func remove(_ index: Index) {
        keys[index] = nil
        if order.count > 2 * Limits.maxSkippedKeys {
            order.removeAll { keys[$0] == nil }
        }
    }

    mutating func insert(_ key: MessageKey, for index: Index) {
        keys[index] = key
        order.append(index)
        while keys.count > Limits.maxSkippedKeys {
            keys[order.removeFirst()] = nil
        }
    }

    /// The live entries, oldest first: for serialisation.
    var entries: [(Index, MessageKey)] {
        order.elements.compactMap { index in keys[index].map { (index, $0) } }
    }
}
