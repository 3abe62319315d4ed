import CatroomCrypto
import Testing

/// Public known-answer vectors for every primitive, read from `Vectors/`.
@Suite struct PrimitiveVectorTests {
    @Test func x25519MatchesRFC7748() throws {
        let json = try loadJSON("rfc7748-x25519.json")
        for case let vector as [String: String] in try #require(json["scalarmult"] as? [Any]) {
            let scalar = try X25519.PrivateKey(secret: SecretBytes(copying: hex(vector["scalar"])))
            // §5.2's inputs are arbitrary u-coordinates; the second has its high bit set, which
            // RFC 7748 masks. catroom rejects such encodings, so the masked form is used here.
            var u = hex(vector["u"])
            u[31] &= 0x7f
            let shared = try scalar.sharedSecret(with: X25519.PublicKey(bytes: u))
            #expect(shared.unprotectedBytes == hex(vector["output"]))
        }

        let dh = try #require(json["diffieHellman"] as? [String: String])
        let alice = X25519.KeyPair(privateKey: try .init(secret: SecretBytes(copying: hex(dh["alicePrivate"]))))
        let bob = X25519.KeyPair(privateKey: try .init(secret: SecretBytes(copying: hex(dh["bobPrivate"]))))
        #expect(alice.publicKey.bytes == hex(dh["alicePublic"]))
        #expect(bob.publicKey.bytes == hex(dh["bobPublic"]))
        #expect(try alice.privateKey.sharedSecret(with: bob.publicKey).unprotectedBytes == hex(dh["shared"]))
        #expect(try bob.privateKey.sharedSecret(with: alice.publicKey).unprotectedBytes == hex(dh["shared"]))

        // §5.2's iterated test, to 1000 iterations: k, u = X25519(k, u), k.
        let iterated = try #require(json["iterated"] as? [String: String])
        var k = hex(iterated["start"]), u = k
        for round in 1...1000 {
            let next = try X25519.PrivateKey(secret: SecretBytes(copying: k)).sharedSecret(with: X25519.PublicKey(bytes: u))
            (k, u) = (next.unprotectedBytes, k)
            if round == 1 { #expect(k == hex(iterated["after1"])) }
        }
        #expect(k == hex(iterated["after1000"]))
    }

    @Test func ed25519MatchesRFC8032() throws {
        let json = try loadJSON("rfc8032-ed25519.json")
        for case let vector as [String: String] in try #require(json["cases"] as? [Any]) {
            let pair = try IdentityKeyPair(seed: SecretBytes(copying: hex(vector["secretKey"])))
            #expect(pair.publicKey.bytes == hex(vector["publicKey"]))
            let message = hex(vector["message"])
            let signature = pair.signature(context: [], message: message)
            #expect(signature == hex(vector["signature"]))
            #expect(pair.publicKey.isValidSignature(signature, context: [], message: message))
            var forged = signature
            forged[0] ^= 1
            #expect(!pair.publicKey.isValidSignature(forged, context: [], message: message))
        }
    }

    @Test func hkdfMatchesRFC5869() throws {
        for case let vector as [String: Any] in try #require(loadJSON("rfc5869-hkdf-sha256.json")["cases"] as? [Any]) {
            let prk = HKDF.extract(salt: hex(vector["salt"]), inputKeyMaterial: hex(vector["ikm"]))
            #expect(prk.unprotectedBytes == hex(vector["prk"]))
            let okm = HKDF.deriveKey(
                salt: hex(vector["salt"]), inputKeyMaterial: hex(vector["ikm"]), info: hex(vector["info"]),
                outputCount: try #require(vector["length"] as? Int))
            #expect(okm.unprotectedBytes == hex(vector["okm"]))
        }
    }

    @Test func hmacMatchesRFC4231() throws {
        for case let vector as [String: Any] in try #require(loadJSON("rfc4231-hmac-sha256.json")["cases"] as? [Any]) {
            // HKDF-Extract is HMAC(salt, ikm): the public way to reach the MAC.
            let mac = HKDF.extract(salt: hex(vector["key"]), inputKeyMaterial: hex(vector["data"])).unprotectedBytes
            let expected = hex(vector["mac"])
            #expect(Array(mac.prefix(expected.count)) == expected)
        }
    }

    @Test func xchacha20Poly1305MatchesDraft() throws {
        for case let vector as [String: String] in try #require(loadJSON("xchacha20poly1305.json")["cases"] as? [Any]) {
            let sealed = XChaCha20Poly1305.seal(
                hex(vector["plaintext"]), key: hex(vector["key"]), nonce: hex(vector["nonce"]), associatedData: hex(vector["aad"]))
            #expect(sealed == hex(vector["ciphertext"]) + hex(vector["tag"]))
            let opened = try XChaCha20Poly1305.open(
                sealed, key: hex(vector["key"]), nonce: hex(vector["nonce"]), associatedData: hex(vector["aad"]))
            #expect(opened == hex(vector["plaintext"]))
            var tampered = sealed
            tampered[tampered.count - 1] ^= 0x80
            #expect(throws: CryptoError.decryptionFailed) {
                try XChaCha20Poly1305.open(tampered, key: hex(vector["key"]), nonce: hex(vector["nonce"]), associatedData: hex(vector["aad"]))
            }
            var otherAD = hex(vector["aad"])
            otherAD[0] ^= 1
            #expect(throws: CryptoError.decryptionFailed) {
                try XChaCha20Poly1305.open(sealed, key: hex(vector["key"]), nonce: hex(vector["nonce"]), associatedData: otherAD)
            }
        }
    }

    @Test func sha256MatchesFIPS180Example() {
        #expect(SHA256.hash(Array("abc".utf8)).hexString == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}

/// PBKDF2-HMAC-SHA-256 known answers (RFC 7914 §11).
@Suite struct PBKDF2Tests {
    @Test func matchesRFC7914() {
        let one = PBKDF2.deriveKey(password: Array("passwd".utf8), salt: Array("salt".utf8), iterations: 1, outputCount: 64)
        #expect(one.unprotectedBytes.hexString == "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")
        let many = PBKDF2.deriveKey(password: Array("Password".utf8), salt: Array("NaCl".utf8), iterations: 80000, outputCount: 64)
        #expect(many.unprotectedBytes.hexString == "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d")
    }
}
