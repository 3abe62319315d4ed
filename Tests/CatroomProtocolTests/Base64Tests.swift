import CatroomProtocol
import Testing

/// RFC 4648 §4 base64 as the XML elements carry it.
struct Base64Tests {
    /// RFC 4648 §10.
    @Test(arguments: [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ])
    func matchesRFC4648TestVectors(_ text: String, _ encoded: String) {
        #expect(utf8(text).base64 == encoded)
        #expect([UInt8](base64: encoded) == utf8(text))
    }

    @Test func roundTripsEveryByte() {
        let bytes = (0...255).map { UInt8($0) }
        #expect([UInt8](base64: bytes.base64) == bytes)
        #expect([UInt8](base64: [0xFB, 0xFF].base64) == [0xFB, 0xFF])
        #expect([0xFB, 0xFF].base64 == "+/8=")
    }

    /// RFC 4648 §3.5: bits the last character does not use must be zero, so one value has one encoding.
    @Test(arguments: [("Zh==", "Zg=="), ("Zm9=", "Zm8="), ("+/9=", "+/8=")])
    func rejectsSetUnusedBits(_ encoded: String, _ canonical: String) {
        #expect([UInt8](base64: encoded) == nil)
        #expect([UInt8](base64: canonical) != nil)
    }

    @Test(arguments: ["Zg", "Zm8", "Zg=", "Zm9vYg"])
    func requiresPadding(_ encoded: String) {
        #expect([UInt8](base64: encoded) == nil)
    }

    @Test(arguments: ["Zm9v YmFy", "Zm9v\nYmFy", " Zm9v", "Zm9v\r\n", "\tZm9v"])
    func rejectsWhitespace(_ encoded: String) {
        #expect([UInt8](base64: encoded) == nil)
    }

    @Test(arguments: ["Zm9v!", "Zm-v", "Zm_v", "Zg==Zg==", "=Zm9", "Zm9v=Zm9v", "Z===", "é"])
    func rejectsCharactersOutsideTheAlphabetAndMisplacedPadding(_ encoded: String) {
        #expect([UInt8](base64: encoded) == nil)
    }

    /// RFC 4648 §4: the encoded length is a multiple of 4, with at most two "=" closing the
    /// last quantum; anything after that is not base64.
    @Test(arguments: ["Zm9v=", "Zm9v==", "Zg===", "Zm8==", "biws="])
    func rejectsPaddingBeyondTheLastQuantum(_ encoded: String) {
        #expect([UInt8](base64: encoded) == nil)
    }

    @Test func decodesASubstring() {
        let message = "p=Zm9v"
        #expect([UInt8](base64: message.dropFirst(2)) == utf8("foo"))
    }
}
