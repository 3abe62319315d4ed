@testable import CatroomCrypto
import Testing

/// The responder's one-time prekeys are capped (CR-0006 §4.1): the oldest go, and
/// every private key that goes is wiped.
@Suite struct PreKeyStoreTests {
    @Test func keepsOnlyTheNewestOneTimePreKeys() {
        var store = PreKeyStore(identity: .generate())
        _ = store.generateOneTimePreKeys(count: Limits.maxOneTimePreKeys)
        #expect(store.oneTimePreKeyCount == Limits.maxOneTimePreKeys)
        let refill = store.generateOneTimePreKeys(count: 100)
        #expect(refill.map(\.id) == Array(1001...1100))
        #expect(store.oneTimePreKeyCount == Limits.maxOneTimePreKeys)
        #expect(store.oneTimePreKeyPairs.keys.min() == 101 && store.oneTimePreKeyPairs.keys.max() == 1100)
    }

    @Test func anEvictedOneTimePreKeyCannotStartASession() throws {
        var alice = Member(), bob = Member(oneTimePreKeys: 1)
        // Alice fetched id 1; bob refills past the cap before her first message arrives.
        try alice.store.initiateSession(with: bob.bundle(), peer: bob.id)
        let first = try alice.store.encrypt([1], to: bob.id)
        #expect(first.preKey?.oneTimePreKeyID == 1)
        _ = bob.store.generateOneTimePreKeys(count: Limits.maxOneTimePreKeys)
        #expect(throws: CryptoError.unknownPreKey) { try bob.store.decrypt(first, from: alice.id) }
    }

    @Test func evictedUsedAndRemovedPrivateKeysAreWiped() {
        var store = PreKeyStore(identity: .generate())
        _ = store.generateOneTimePreKeys(count: 3)
        // SecretBytes wipes its bytes in deinit: once nothing holds a key, it is zeroed.
        weak let evicted = store.oneTimePreKeyPairs[1]?.privateKey.secret
        weak let used = store.oneTimePreKeyPairs[2]?.privateKey.secret
        weak let removed = store.oneTimePreKeyPairs[3]?.privateKey.secret
        #expect(evicted != nil && used != nil && removed != nil)
        store.commit(PreKeyInfo(
            identityKey: store.identity.publicKey, baseKey: X25519.KeyPair.generate().publicKey, signedPreKeyID: 1, oneTimePreKeyID: 2))
        #expect(used == nil)
        store.removeOneTimePreKeys([3])
        #expect(removed == nil)
        #expect(evicted != nil)
        _ = store.generateOneTimePreKeys(count: Limits.maxOneTimePreKeys)
        #expect(evicted == nil)
    }
}
