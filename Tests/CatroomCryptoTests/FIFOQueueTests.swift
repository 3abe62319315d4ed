@testable import CatroomCrypto
import Testing

/// The FIFO behind the skipped-key and seen-base-key caps: order survives the lazy compaction.
@Suite struct FIFOQueueTests {
    @Test func removesInInsertionOrderAcrossCompactions() {
        var queue = FIFOQueue<Int>()
        var expected: [Int] = []
        for i in 0..<1000 {
            queue.append(i)
            expected.append(i)
            if i % 3 == 0 {
                #expect(queue.removeFirst() == expected.removeFirst())
            }
            #expect(queue.count == expected.count)
        }
        #expect(Array(queue.elements) == expected)
        while queue.count > 0 { #expect(queue.removeFirst() == expected.removeFirst()) }
        #expect(expected.isEmpty)
    }

    @Test func removeAllKeepsTheOrderOfTheRest() {
        var queue = FIFOQueue<Int>()
        for i in 0..<10 { queue.append(i) }
        _ = queue.removeFirst()
        queue.removeAll { $0 % 2 == 0 }
        #expect(Array(queue.elements) == [1, 3, 5, 7, 9])
        #expect(queue.removeFirst() == 1)
        #expect(queue.count == 4)
    }

    @Test func preKeyStoreForgetsOnlyTheOldestSeenBaseKey() throws {
        var store = PreKeyStore(identity: .generate())
        func baseKey(_ i: Int) -> X25519.PublicKey {
            X25519.PublicKey(trusted: withUnsafeBytes(of: UInt32(i).bigEndian, Array.init) + [UInt8](repeating: 1, count: 28))
        }
        for i in 0...Limits.maxSeenBaseKeys {
            store.commit(PreKeyInfo(
                identityKey: store.identity.publicKey, baseKey: baseKey(i), signedPreKeyID: 1, oneTimePreKeyID: nil))
        }
        #expect(!store.hasSeen(baseKey: baseKey(0)))
        #expect(store.hasSeen(baseKey: baseKey(1)))
        #expect(store.hasSeen(baseKey: baseKey(Limits.maxSeenBaseKeys)))
    }
}
