/// A first-in, first-out queue with O(1) amortised `removeFirst`, for the caps that
/// evict their oldest entry (skipped message keys, seen X3DH base keys).
///
/// `Array.removeFirst` shifts every element, and those caps evict on input a peer
/// controls before anything has authenticated. Here removed elements stay behind
/// `head` until they are half the storage, then go in one move.
struct FIFOQueue<Element> {
    private var storage: [Element] = []
    /// Index in `storage` of the oldest element still queued.
    private var head = 0

    var count: Int { storage.count - head }

    /// The queued elements, oldest first.
    var elements: ArraySlice<Element> { storage[head...] }

    mutating func append(_ element: Element) { storage.append(element) }

    /// Removes and returns the oldest element; the queue must not be empty.
    mutating func removeFirst() -> Element {
        precondition(head < storage.count, "removeFirst on an empty FIFOQueue")
        let first = storage[head]
        head += 1
        if head * 2 >= storage.count { compact() }
        return first
    }

    mutating func removeAll(where shouldBeRemoved: (Element) -> Bool) {
        compact()
        storage.removeAll(where: shouldBeRemoved)
    }

    /// Drops the removed elements; O(count), paid for by the at least as many removals before it.
    private mutating func compact() {
        storage.removeFirst(head)
        head = 0
    }
}

extension FIFOQueue: Sendable where Element: Sendable {}
