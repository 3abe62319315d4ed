import CatroomCrypto
import Testing

/// SECURITY-CASES PC-07, PC-08, PC-17, PC-18: bad keys and signatures are rejected, keys are random.
@Suite struct KeyValidationTests {
    static let p = [UInt8](hex: "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")!

    @Test func rejectsX25519KeysWithTheHighBitSet() {
        var key = X25519.KeyPair.generate().publicKey.bytes
        key[31] |= 0x80
        #expect(throws: CryptoError.invalidKey) { try X25519.PublicKey(bytes: key) }
    }

    @Test func rejectsNonCanonicalX25519Coordinates() throws {
        // p, p + 1 and 2^255 - 1 are second encodings of 0, 1 and 18.
        for low in [UInt8(0xed), 0xee, 0xff] {
            var u = Self.p
            u[0] = low
            #expect(throws: CryptoError.invalidKey) { try X25519.PublicKey(bytes: u) }
        }
        var below = Self.p
        below[0] = 0xec  // p - 1 is canonical
        _ = try X25519.PublicKey(bytes: below)
    }

    @Test func rejectsWrongLengths() {
        #expect(throws: CryptoError.invalidKey) { try X25519.PublicKey(bytes: [UInt8](repeating: 9, count: 31)) }
        #expect(throws: CryptoError.invalidKey) { try IdentityKey(bytes: [UInt8](repeating: 9, count: 33)) }
        #expect(throws: CryptoError.invalidKey) { try IdentityKeyPair(seed: SecretBytes(copying: [1, 2, 3])) }
    }

    /// The low-order X25519 points with a canonical encoding (CR-0001 §4.3).
    static let lowOrderPoints: [String] = [
        "0000000000000000000000000000000000000000000000000000000000000000",  // 0
        "0100000000000000000000000000000000000000000000000000000000000000",  // 1
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",  // order 8
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",  // order 8
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p - 1, order 2
    ]

    @Test func rejectsLowOrderPointsInDiffieHellman() throws {
        let local = X25519.KeyPair.generate()
        for encoded in Self.lowOrderPoints {
            let point = try X25519.PublicKey(bytes: [UInt8](hex: encoded)!)
            #expect(throws: CryptoError.invalidKey) { try local.privateKey.sharedSecret(with: point) }
        }
    }

    @Test func rejectsInvalidEd25519IdentityKeys() {
        let invalid: [String] = [
            "0100000000000000000000000000000000000000000000000000000000000000",  // the neutral element
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // order 2
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",  // order 8
            "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // y = p: non-canonical
            "0200000000000000000000000000000000000000000000000000000000000000",  // not on the curve
        ]
        for encoded in invalid {
            #expect(throws: CryptoError.invalidKey) { try IdentityKey(bytes: [UInt8](hex: encoded)!) }
        }
    }

    @Test func rejectsEd25519SignatureWithScalarAboveGroupOrder() {
        let pair = IdentityKeyPair.generate()
        let message = Array("message".utf8)
        var signature = pair.signature(context: [], message: message)
        #expect(pair.publicKey.isValidSignature(signature, context: [], message: message))
        // S + L encodes the same scalar but is not canonical: RFC 8032 §5.1.7 requires S < L.
        let order: [UInt8] = [UInt8](hex: "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")!
        var carry = 0
        for i in 0..<32 {
            let sum = Int(signature[32 + i]) + Int(order[i]) + carry
            signature[32 + i] = UInt8(sum & 0xff)
            carry = sum >> 8
        }
        #expect(!pair.publicKey.isValidSignature(signature, context: [], message: message))
    }

    @Test func signaturesAreBoundToTheirLabel() {
        let pair = IdentityKeyPair.generate()
        let key = X25519.KeyPair.generate().publicKey.bytes
        let signature = pair.signature(context: Label.signedPreKey, message: key)
        #expect(pair.publicKey.isValidSignature(signature, context: Label.signedPreKey, message: key))
        #expect(!pair.publicKey.isValidSignature(signature, context: Label.registration, message: key))
        #expect(!pair.publicKey.isValidSignature(signature, context: [], message: Label.signedPreKey + key.dropLast()))
    }

    @Test func labelsAreUniqueAndPrefixFree() {
        let labels = [Label.x3dh, Label.rootChain, Label.messageKeys, Label.fanoutKeys, Label.signedPreKey, Label.accountID, Label.registration]
        for (i, a) in labels.enumerated() {
            for (j, b) in labels.enumerated() where i != j {
                #expect(!b.starts(with: a))
            }
        }
    }

    @Test func accountIDIsDerivedFromTheKey() throws {
        let pair = try IdentityKeyPair(seed: SecretBytes(copying: [UInt8](repeating: 7, count: 32)))
        let id = pair.publicKey.accountID
        #expect(id.count == 32)
        #expect(id.allSatisfy { "abcdefghijklmnopqrstuvwxyz234567".contains($0) })
        #expect(id == Base32.encode(SHA256.hash(Label.accountID, pair.publicKey.bytes).prefix(20)))
        #expect(IdentityKeyPair.generate().publicKey.accountID != id)
        #expect(pair.publicKey.fingerprint.split(separator: " ").count == 8)
    }

    @Test func base32MatchesRFC4648() {
        // RFC 4648 §10, lowercased and without padding.
        let cases = ["": "", "f": "my", "fo": "mzxq", "foo": "mzxw6", "foob": "mzxw6yq", "fooba": "mzxw6ytb", "foobar": "mzxw6ytboi"]
        for (input, output) in cases {
            #expect(Base32.encode(Array(input.utf8)) == output)
        }
    }

    /// PC-17 smoke test: keys come from the CSPRNG at full width.
    @Test func generatedKeysAreDistinctAndBalanced() {
        var seen = Set<[UInt8]>()
        var ones = 0
        let count = 10_000
        for _ in 0..<count {
            let key = randomBytes(count: 32)
            seen.insert(key)
            ones += key.reduce(0) { $0 + $1.nonzeroBitCount }
        }
        #expect(seen.count == count)
        let fraction = Double(ones) / Double(count * 256)
        #expect(abs(fraction - 0.5) < 0.005)
    }

    @Test func secretBytesCompareInConstantTimeAndNeverPrint() {
        let a = SecretBytes(copying: [1, 2, 3])
        #expect(a == SecretBytes(copying: [1, 2, 3]))
        #expect(a != SecretBytes(copying: [1, 2, 4]))
        #expect(a != SecretBytes(copying: [1, 2]))
        #expect("\(a)" == "SecretBytes(3 bytes)")
    }
}
