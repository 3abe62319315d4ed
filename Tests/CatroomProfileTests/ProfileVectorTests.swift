import CatroomCrypto
import Foundation
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

    @Test func derivesTheHistoryHandlesAndBoxAsDocumented() throws {
        let keys = ProfileKeys(masterKey: Self.master)
        #expect(keys.conversationKey.unprotectedBytes.hexString == "a65f934ee1fcfe9efcd7753773da9e7151368bd8ed4d65b5f31d1608acd85c6a")
        let room = keys.handle(of: .room("lobby@rooms.localhost"))
        #expect(room.hexString == "f0a8f9f6efd778b823dddd652fe483fb315a67a63533a3ef40521d69975bfeee")
        let identity = try IdentityKeyPair(seed: SecretBytes(copying: Array(UInt8(0xa0)...0xbf))).publicKey
        #expect(keys.handle(of: .peer(identity)).hexString == "ab56fff669787e930534549d44260342729fb5375a684f0faa5684837bed86dd")
        let entry = HistoryEntry(kind: .message, time: Date(timeIntervalSince1970: 1_790_000_000), sender: identity, name: "alice", text: "hello")
        let plaintext = HistoryRecord.encode(entry)
        #expect(plaintext.hexString == "0101000000006ab13b80" + identity.bytes.hexString + "0005616c696365" + "0000000568656c6c6f" + "000000000000")
        let ad = Profile.historyAD(id: 1, handle: room)
        #expect(ad.hexString == "636174726f6f6d2d70726f66696c652d763107686973746f72790000000000000001" + room.hexString)
        let box = SealedRow.seal(plaintext, key: keys.rowKey, nonce: Array(UInt8(0xe0)...0xf7), associatedData: ad)
        #expect(box.hexString == "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7"
            + "471761c6e286e3282cce1cb7bbb2e22c71d7f1541ec5b5ddde26472d1c80c2f3da380b4ee5be8f687ef8e7d0deb3776f"
            + "577310672a48d23b06d460c6b15dbfc5d54346086224e323b600b68028a42612")
        // Negative: under another row id or another conversation it does not open.
        #expect(throws: CryptoError.self) { try SealedRow.open(box, key: keys.rowKey, associatedData: Profile.historyAD(id: 2, handle: room)) }
        #expect(throws: CryptoError.self) {
            try SealedRow.open(box, key: keys.rowKey, associatedData: Profile.historyAD(id: 1, handle: keys.handle(of: .peer(identity))))
        }
        #expect(ProfileSettings(history: true, keepSeconds: 30 * 86_400).encode().hexString == "01010000000000278d00")
    }
}
