import CatroomCrypto
import Foundation
import CatroomProtocol
import CatroomXML
import Testing

/// Prekey bundles on the wire (CR-0004 §5.1), validated as CR-0001 §4.3 requires.
struct BundleElementTests {
    static let bob = identity(0x42)
    static let signedKey = agreementKeyPair(0x01).publicKey
    static let signedPreKey = SignedPreKey(
        id: 7, publicKey: signedKey, signature: bob.signature(context: Label.signedPreKey, message: signedKey.bytes))
    static let oneTime = [
        OneTimePreKey(id: 1, publicKey: agreementKeyPair(0x02).publicKey),
        OneTimePreKey(id: 2, publicKey: agreementKeyPair(0x03).publicKey),
    ]

    static func bundle(oneTime: [OneTimePreKey] = oneTime) -> BundleElement {
        BundleElement(identityKey: bob.publicKey, signedPreKey: signedPreKey, oneTimePreKeys: oneTime)
    }

    /// The bundle as XML text, with pieces replaceable for the malformed cases.
    static func xml(
        identity: String? = bob.publicKey.bytes.base64,
        signedID: String? = "7",
        signature: String? = signedPreKey.signature.base64,
        signedKey: String = signedKey.bytes.base64,
        preKeys: [(id: String?, key: String)] = oneTime.map { (String($0.id), $0.publicKey.bytes.base64) },
        namespace: String = Namespace.bundles
    ) -> String {
        var text = "<bundle xmlns='\(namespace)'>"
        if let identity { text += "<identity-key>\(identity)</identity-key>" }
        text += "<signed-pre-key"
        if let signedID { text += " id='\(signedID)'" }
        if let signature { text += " signature='\(signature)'" }
        text += ">\(signedKey)</signed-pre-key>"
        for preKey in preKeys {
            text += "<pre-key" + (preKey.id.map { " id='\($0)'" } ?? "") + ">\(preKey.key)</pre-key>"
        }
        return text + "</bundle>"
    }

    private func expectBadRequest(_ xml: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let element = try parse(xml, sourceLocation: sourceLocation)
        let error = #expect(throws: StanzaError.self, sourceLocation: sourceLocation) { try BundleElement(element) }
        #expect(error?.condition == .badRequest, sourceLocation: sourceLocation)
        #expect(error?.type == .modify, sourceLocation: sourceLocation)
    }

    // MARK: - Round trip

    @Test func roundTripsThroughXML() throws {
        let bundle = Self.bundle()
        #expect(try BundleElement(bundle.element) == bundle)
        #expect(try BundleElement(try parse(bundle.element.serializedString())) == bundle)
    }

    @Test func serialisesAsCR0004() {
        let bundle = Self.bundle()
        #expect(bundle.element.serializedString() == Self.xml())
    }

    @Test func roundTripsWithoutOneTimePreKeys() throws {
        let bundle = Self.bundle(oneTime: [])
        #expect(try BundleElement(bundle.element) == bundle)
    }

    @Test func readsAllKeys() throws {
        let bundle = try BundleElement(try parse(Self.xml()))
        #expect(bundle.identityKey == Self.bob.publicKey)
        #expect(bundle.signedPreKey.id == 7)
        #expect(bundle.signedPreKey.publicKey == Self.signedKey)
        #expect(bundle.signedPreKey.isSigned(by: Self.bob.publicKey))
        #expect(bundle.oneTimePreKeys == Self.oneTime)
    }

    @Test func acceptsTheLargestIDs() throws {
        let bundle = try BundleElement(try parse(Self.xml(signedID: "4294967295", preKeys: [("4294967295", Self.oneTime[0].publicKey.bytes.base64)])))
        #expect(bundle.signedPreKey.id == UInt32.max)
        #expect(bundle.oneTimePreKeys.map(\.id) == [UInt32.max])
    }

    // MARK: - Rejections

    @Test func rejectsAMissingIdentityKey() throws {
        try expectBadRequest(Self.xml(identity: nil))
    }

    @Test func rejectsAMissingSignedPreKey() throws {
        try expectBadRequest("<bundle xmlns='\(Namespace.bundles)'><identity-key>\(Self.bob.publicKey.bytes.base64)</identity-key></bundle>")
    }

    @Test func rejectsAnotherNamespaceOrName() throws {
        try expectBadRequest(Self.xml(namespace: "urn:catroom:bundles:1"))
        try expectBadRequest(Self.xml().replacingOccurrences(of: "<bundle ", with: "<bundles ").replacingOccurrences(of: "</bundle>", with: "</bundles>"))
    }

    /// RFC 7748 tells receivers to mask the top bit; CR-0001 §4.3 rejects such encodings instead.
    @Test func rejectsANonCanonicalSignedPreKey() throws {
        var bytes = Self.signedKey.bytes
        bytes[31] |= 0x80
        try expectBadRequest(Self.xml(signedKey: bytes.base64))
    }

    @Test func rejectsANonCanonicalOneTimePreKey() throws {
        var bytes = Self.oneTime[1].publicKey.bytes
        bytes[31] |= 0x80
        try expectBadRequest(Self.xml(preKeys: [("1", Self.oneTime[0].publicKey.bytes.base64), ("2", bytes.base64)]))
    }

    @Test func rejectsAnX25519KeyNotBelowP() throws {
        // u = p = 2^255 - 19: a second encoding of 0 (CR-0001 Appendix A).
        let p = [UInt8(0xED)] + [UInt8](repeating: 0xFF, count: 30) + [0x7F]
        try expectBadRequest(Self.xml(signedKey: p.base64))
    }

    @Test(arguments: [
        "0100000000000000000000000000000000000000000000000000000000000000",  // the neutral element
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",  // a point of order 8
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // y = p, non-canonical
        "0200000000000000000000000000000000000000000000000000000000000000",  // not on the curve
    ])
    func rejectsAnInvalidIdentityKey(_ hex: String) throws {
        // The cases CR-0001 Appendix A lists as "invalid identity key".
        try expectBadRequest(Self.xml(identity: [UInt8](hex: hex)!.base64))
    }

    @Test func rejectsKeysOfTheWrongLength() throws {
        try expectBadRequest(Self.xml(identity: Array(Self.bob.publicKey.bytes.prefix(31)).base64))
        try expectBadRequest(Self.xml(identity: (Self.bob.publicKey.bytes + [0]).base64))
        try expectBadRequest(Self.xml(signedKey: Array(Self.signedKey.bytes.prefix(31)).base64))
        try expectBadRequest(Self.xml(preKeys: [("1", (Self.oneTime[0].publicKey.bytes + [0]).base64)]))
        try expectBadRequest(Self.xml(identity: ""))
    }

    @Test func rejectsBadBase64() throws {
        let identity = Self.bob.publicKey.bytes.base64
        try expectBadRequest(Self.xml(identity: "!" + identity.dropFirst()))
        try expectBadRequest(Self.xml(identity: String(identity.dropLast())))  // padding missing
        try expectBadRequest(Self.xml(identity: " " + identity))
        try expectBadRequest(Self.xml(signature: "not base64"))
        try expectBadRequest(Self.xml(signedKey: "%%%%"))
        try expectBadRequest(Self.xml(preKeys: [("1", "@@@@")]))
    }

    @Test func rejectsDuplicateOneTimePreKeyIDs() throws {
        try expectBadRequest(Self.xml(preKeys: [
            ("5", Self.oneTime[0].publicKey.bytes.base64), ("5", Self.oneTime[1].publicKey.bytes.base64),
        ]))
    }

    @Test func acceptsAOneTimePreKeyWithTheSignedPreKeysID() throws {
        // Signed and one-time prekeys are numbered apart.
        let bundle = try BundleElement(try parse(Self.xml(preKeys: [("7", Self.oneTime[0].publicKey.bytes.base64)])))
        #expect(bundle.oneTimePreKeys.map(\.id) == [7])
    }

    @Test func rejectsASignatureThatIsNot64Bytes() throws {
        let signature = Self.signedPreKey.signature
        try expectBadRequest(Self.xml(signature: Array(signature.prefix(63)).base64))
        try expectBadRequest(Self.xml(signature: (signature + [0]).base64))
        try expectBadRequest(Self.xml(signature: ""))
        try expectBadRequest(Self.xml(signature: nil))
    }

    @Test(arguments: [nil, "", "-1", "4294967296", "x", "0x7", "1.0"])
    func rejectsABadSignedPreKeyID(_ id: String?) throws {
        try expectBadRequest(Self.xml(signedID: id))
    }

    @Test(arguments: [nil, "", "-1", "4294967296", "x"])
    func rejectsABadOneTimePreKeyID(_ id: String?) throws {
        try expectBadRequest(Self.xml(preKeys: [(id, Self.oneTime[0].publicKey.bytes.base64)]))
    }

    // MARK: - preKeyBundle

    @Test func preKeyBundleWithoutAOneTimePreKey() throws {
        let bundle = try #require(Self.bundle(oneTime: []).preKeyBundle)
        #expect(bundle.identityKey == Self.bob.publicKey)
        #expect(bundle.signedPreKey == Self.signedPreKey)
        #expect(bundle.oneTimePreKey == nil)
    }

    @Test func preKeyBundleWithOneOneTimePreKey() throws {
        let bundle = try #require(Self.bundle(oneTime: [Self.oneTime[1]]).preKeyBundle)
        #expect(bundle.oneTimePreKey == Self.oneTime[1])
    }

    @Test func noPreKeyBundleFromSeveralOneTimePreKeys() {
        #expect(Self.bundle().preKeyBundle == nil)
    }
}
