import CatroomCrypto
import Testing
@testable import CatroomProfile

/// docs/profile-format.md §6: fixed passphrase, salt, limits, nonces and master key; the
/// expected bytes were computed from the document alone with PyNaCl.
@Suite struct ProfileVectorTests {
    static let passphrase = SecretBytes(copying: Array("correct horse battery staple".utf8))
    static let salt = Array(UInt8(0x00)...0x0f)
    static let master = SecretBytes(copying: Array(UInt8(0x40)...0x5f))

    @Test func wrapsTheMasterKeyAsDocumented() throws {
        let record = try KeyRecord(wrapping: Self.master, passphrase: Self.passphrase, limits: .minimum, salt: Self.salt,
                                   nonce: Array(UInt8(0x80)...0x97))
        #expect(SealedRow.associatedData(place: "keyring", key: KeyRecord.binding(Self.salt, .minimum)).hexString
            == "636174726f6f6d2d70726f66696c652d7631076b657972696e67000102030405060708090a0b0c0d0e0f00000000000000010000000000002000")
        #expect(record.box.hexString == "808182838485868788898a8b8c8d8e8f9091929394959697"
            + "5fdd012740581b0dbdbbf9d2343fe4e0a673ebfabedef2ae4c75f8c416c03437af6113494c3bb5b619c5d8c0fce80f63")
        #expect(try record.unwrap(passphrase: Self.passphrase) == Self.master)
        #expect(try record.unwrap(passphrase: SecretBytes(copying: Array("correct horse battery stapler".utf8))) == nil)
    }

    @Test func derivesTheSubkeysHandleAndIdentityBoxAsDocumented() throws {
        let keys = ProfileKeys(masterKey: Self.master)
        #expect(keys.rowKey.unprotectedBytes.hexString == "61da1e6691a6d009f44df9175264a0d40c65a1560fa2231cdfa2f4e9d9af6181")
        #expect(keys.handleKey.unprotectedBytes.hexString == "7a4637c2277653320950e1768e5b36532861528446918094cb1c7189486d134f")
        let seed = SecretBytes(copying: Array(UInt8(0xa0)...0xbf))
        let identity = try IdentityKeyPair(seed: seed)
        #expect(identity.publicKey.bytes.hexString == "4fd099ccd47d7893dfe9ec24414ecb0d9b5420232aad30d91c465be33cbe65c4")
        #expect(keys.handle(of: identity.publicKey).hexString == "a8801abe357c97fb4256eb11c016f51b5f00d6d7f6e730381ac80b16da247930")
        let box = SealedRow.seal(identity.seed, key: keys.rowKey, nonce: Array(UInt8(0xc0)...0xd7),
                                 associatedData: SealedRow.associatedData(place: "identity", key: []))
        #expect(box.hexString == "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7"
            + "16030d9a4a302536ddf01a9144fd1be14ec700d6b4acc374773301dad366226f8c4fdeeb0b9b14b6bc98cc11de78b547")
    }
}
