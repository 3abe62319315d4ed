import CatroomCrypto
import CatroomProtocol
import Testing

/// The key-possession proof of ephemeral registration (CR-0003 §5.2).
struct KeyPossessionTests {
    let alice = identity(0x11)
    let nonce = counting(32, from: 0x80)
    let domain = "example.com"
    let streamID = "s1"

    // MARK: - Transcript

    @Test func transcriptIsLengthPrefixedDomainStreamNonceAndKey() {
        let transcript = KeyPossession.transcript(domain: domain, streamID: streamID, nonce: nonce, identityKey: alice.publicKey)
        let expected: [UInt8] =
            [0x00, 0x0B] + utf8("example.com")
            + [0x00, 0x02] + utf8("s1")
            + counting(32, from: 0x80)
            + alice.publicKey.bytes
        #expect(transcript == expected)
        #expect(transcript.count == 2 + 11 + 2 + 2 + 32 + 32)
    }

    /// Computed independently (Python `cryptography`, Ed25519 of RFC 8032) for the seed 0x11 × 32.
    @Test func transcriptAndSignatureKnownAnswer() throws {
        let publicKey = "d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c9778737"
        #expect(alice.publicKey.bytes.hexString == publicKey)
        let transcript = KeyPossession.transcript(
            domain: "a.b", streamID: "XYZ", nonce: [UInt8](repeating: 0xEE, count: 32), identityKey: alice.publicKey)
        #expect(transcript.hexString == "0003612e62" + "000358595a" + String(repeating: "ee", count: 32) + publicKey)
        let signature = KeyPossession.signature(by: alice, domain: "a.b", streamID: "XYZ", nonce: [UInt8](repeating: 0xEE, count: 32))
        #expect(signature.hexString == "f592af0dc293691b36d7afde978cfbf40b3787f267da029bd64f78c50e50fb12"
            + "05e40957059fc3cc50fa86e6d0f4e30e6724a38f4de233a1313714a742ccb403")
    }

    @Test func transcriptLengthsAreBigEndianSixteenBits() {
        let longDomain = String(repeating: "d", count: 300)  // 0x012C
        let transcript = KeyPossession.transcript(domain: longDomain, streamID: "", nonce: nonce, identityKey: alice.publicKey)
        #expect(transcript[0] == 0x01)
        #expect(transcript[1] == 0x2C)
        #expect(transcript[302] == 0x00)
        #expect(transcript[303] == 0x00)
        #expect(transcript.count == 2 + 300 + 2 + 32 + 32)
    }

    @Test func transcriptCountsUTF8Bytes() {
        let transcript = KeyPossession.transcript(domain: "x", streamID: "é", nonce: nonce, identityKey: alice.publicKey)
        #expect(Array(transcript.prefix(7)) == [0x00, 0x01, 0x78, 0x00, 0x02, 0xC3, 0xA9])
    }

    @Test func lengthPrefixesKeepDomainAndStreamApart() {
        let one = KeyPossession.transcript(domain: "ab", streamID: "c", nonce: nonce, identityKey: alice.publicKey)
        let other = KeyPossession.transcript(domain: "a", streamID: "bc", nonce: nonce, identityKey: alice.publicKey)
        #expect(one != other)
        let signature = KeyPossession.signature(by: alice, domain: "ab", streamID: "c", nonce: nonce)
        #expect(!KeyPossession.isValid(signature, identityKey: alice.publicKey, domain: "a", streamID: "bc", nonce: nonce))
    }

    // MARK: - Signature

    @Test func signatureVerifies() {
        let signature = KeyPossession.signature(by: alice, domain: domain, streamID: streamID, nonce: nonce)
        #expect(signature.count == 64)
        #expect(KeyPossession.isValid(signature, identityKey: alice.publicKey, domain: domain, streamID: streamID, nonce: nonce))
    }

    @Test func signatureCoversTheRegistrationLabelAndTheTranscript() {
        let signature = KeyPossession.signature(by: alice, domain: domain, streamID: streamID, nonce: nonce)
        let transcript = KeyPossession.transcript(domain: domain, streamID: streamID, nonce: nonce, identityKey: alice.publicKey)
        #expect(alice.publicKey.isValidSignature(signature, context: utf8("catroom-register-v1"), message: transcript))
        // Ed25519 is deterministic: the same inputs sign the same way.
        #expect(signature == alice.signature(context: Label.registration, message: transcript))
    }

    @Test func failsForAnotherDomain() {
        let signature = KeyPossession.signature(by: alice, domain: domain, streamID: streamID, nonce: nonce)
        #expect(!KeyPossession.isValid(signature, identityKey: alice.publicKey, domain: "example.org", streamID: streamID, nonce: nonce))
        #expect(!KeyPossession.isValid(signature, identityKey: alice.publicKey, domain: "Example.com", streamID: streamID, nonce: nonce))
    }

    @Test func failsForAnotherStream() {
        let signature = KeyPossession.signature(by: alice, domain: domain, streamID: streamID, nonce: nonce)
        #expect(!KeyPossession.isValid(signature, identityKey: alice.publicKey, domain: domain, streamID: "s2", nonce: nonce))
        #expect(!KeyPossession.isValid(signature, identityKey: alice.publicKey, domain: domain, streamID: "", nonce: nonce))
    }

    @Test func failsForAnotherNonce() {
        let signature = KeyPossession.signature(by: alice, domain: domain, streamID: streamID, nonce: nonce)
        var other = nonce
        other[31] ^= 1
        #expect(!KeyPossession.isValid(signature, identityKey: alice.publicKey, domain: domain, streamID: streamID, nonce: other))
        #expect(!KeyPossession.isValid(signature, identityKey: alice.publicKey, domain: domain, streamID: streamID, nonce: Array(nonce.prefix(31))))
    }

    @Test func failsForAnotherKey() {
        let signature = KeyPossession.signature(by: alice, domain: domain, streamID: streamID, nonce: nonce)
        let mallory = identity(0x22)
        #expect(!KeyPossession.isValid(signature, identityKey: mallory.publicKey, domain: domain, streamID: streamID, nonce: nonce))
        // Mallory's own signature does not vouch for alice's key either.
        let mallorys = KeyPossession.signature(by: mallory, domain: domain, streamID: streamID, nonce: nonce)
        #expect(!KeyPossession.isValid(mallorys, identityKey: alice.publicKey, domain: domain, streamID: streamID, nonce: nonce))
    }

    @Test func failsForATamperedSignature() {
        var signature = KeyPossession.signature(by: alice, domain: domain, streamID: streamID, nonce: nonce)
        signature[0] ^= 1
        #expect(!KeyPossession.isValid(signature, identityKey: alice.publicKey, domain: domain, streamID: streamID, nonce: nonce))
        #expect(!KeyPossession.isValid([], identityKey: alice.publicKey, domain: domain, streamID: streamID, nonce: nonce))
        #expect(!KeyPossession.isValid(
            Array(signature.prefix(63)), identityKey: alice.publicKey, domain: domain, streamID: streamID, nonce: nonce))
    }

    /// A signature made for another purpose over the same bytes must not pass (cross-protocol reuse).
    @Test func failsWhenSignedUnderAnotherLabel() {
        let transcript = KeyPossession.transcript(domain: domain, streamID: streamID, nonce: nonce, identityKey: alice.publicKey)
        for label in [Label.signedPreKey, Label.accountID, Label.x3dh, []] {
            let signature = alice.signature(context: label, message: transcript)
            #expect(!KeyPossession.isValid(signature, identityKey: alice.publicKey, domain: domain, streamID: streamID, nonce: nonce))
        }
    }

    @Test func aSignedPreKeySignatureIsNoRegistrationProof() {
        // The registration signature does not verify as a signed-prekey signature either.
        let signature = KeyPossession.signature(by: alice, domain: domain, streamID: streamID, nonce: nonce)
        let transcript = KeyPossession.transcript(domain: domain, streamID: streamID, nonce: nonce, identityKey: alice.publicKey)
        #expect(!alice.publicKey.isValidSignature(signature, context: Label.signedPreKey, message: transcript))
    }

    @Test func challengeIs32Bytes() {
        #expect(KeyPossession.challengeCount == 32)
    }
}
