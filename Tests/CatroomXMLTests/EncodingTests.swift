import CatroomXML
import Testing

/// Invalid UTF-8 and characters XML 1.0 forbids; SECURITY-CASES XS-05 and XS-10.
@Suite struct EncodingTests {
    static let invalidSequences: [[UInt8]] = [
        [0xC0, 0xAF],  // overlong '/'
        [0xE0, 0x80, 0xAF],  // overlong, 3 bytes
        [0x80],  // lone continuation byte
        [0xED, 0xA0, 0x80],  // UTF-16 surrogate D800 (CESU-8)
        [0xF8, 0x88, 0x80, 0x80, 0x80],  // 5-byte form
        [0xFC, 0x84, 0x80, 0x80, 0x80, 0x80],  // 6-byte form
        [0xF4, 0x90, 0x80, 0x80],  // above U+10FFFF
        [0xFF],
        [0xE2, 0x82],  // truncated before '<'
        [0xEF, 0xBF, 0xBE],  // U+FFFE, a non-character XML forbids
        [0x01],  // C0 control
        [0x00],
    ]

    @Test(arguments: invalidSequences)
    func rejectsInvalidUTF8AndForbiddenBytesInText(sequence: [UInt8]) {
        expectFailure(utf8(streamHeader + "<message><body>a") + sequence + utf8("b</body></message>"), .notWellFormed)
    }

    @Test(arguments: invalidSequences)
    func rejectsInvalidUTF8AndForbiddenBytesInAttributes(sequence: [UInt8]) {
        expectFailure(utf8(streamHeader + "<message id='a") + sequence + utf8("'/>"), .notWellFormed)
    }

    @Test(arguments: invalidSequences)
    func rejectsInvalidUTF8InTheStreamHeader(sequence: [UInt8]) {
        expectFailure(utf8("<stream:stream xmlns:stream='") + sequence + utf8("'>"), .notWellFormed)
    }

    @Test(arguments: ["&#x0;", "&#0;", "&#xFFFE;", "&#xFFFF;", "&#1;", "&#x1F;", "&#xD800;", "&#x110000;"])
    func rejectsReferencesToForbiddenCharacters(reference: String) {
        expectFailure(streamHeader + "<message><body>\(reference)</body></message>", .notWellFormed)
        expectFailure(streamHeader + "<message id='\(reference)'/>", .notWellFormed)
    }

    @Test func rejectsTheNamespaceSeparatorInANamespace() {
        // U+0001 separates namespace and local name inside expat's names (XS-10).
        expectFailure(streamHeader + "<p:x xmlns:p='urn:a&#1;evil'/>", .notWellFormed)
        expectFailure(utf8(streamHeader + "<x xmlns='urn:a") + [0x01] + utf8("b'/>"), .notWellFormed)
    }

    @Test func acceptsTabLineFeedAndCarriageReturnReferences() {
        #expect(parseStanza("<m a='&#9;&#10;&#13;'>&#9;&#10;&#13;</m>")
            == XML.Element("m", namespace: clientNamespace, attributes: ["a": "\t\n\r"]) { "\t\n\r" })
    }
}
