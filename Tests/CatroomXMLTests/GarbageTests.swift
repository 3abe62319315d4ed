import CatroomXML
import Testing

/// Non-XML input and abort semantics; SECURITY-CASES XS-10, XS-12 and XS-13.
@Suite struct GarbageTests {
    static let clientHello: [UInt8] = [
        0x16, 0x03, 0x01, 0x00, 0x2F, 0x01, 0x00, 0x00, 0x2B, 0x03, 0x03,
    ] + Array(repeating: 0x42, count: 32) + [0x00, 0x00, 0x02, 0x13, 0x01, 0x01, 0x00]

    /// expat would wait for the end of a junk token; the first byte already says it is not XML.
    /// A NUL after such a byte changes nothing, however the two arrive (found by the xml fuzz target).
    @Test(arguments: ["garbage", "x", "\u{01}", "{}", "\u{01}\u{00}", "x\u{00}<"])
    func refusesJunkFromItsFirstByte(input: String) {
        expectFailure(input, .notWellFormed)
    }

    @Test func rejectsATLSClientHello() {
        expectFailure(Self.clientHello, .notWellFormed)
    }

    @Test(arguments: [
        "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
        "POST /http-bind HTTP/1.1\r\nContent-Length: 5\r\n\r\n<body/>",
        "hello" + streamHeader,
        "\u{FEFF}\u{FEFF}" + streamHeader,
        "</stream:stream>",
        streamHeader + "hello",
        streamHeader + "<![CDATA[x]]>",
        streamHeader + "&#32;&amp;",
        streamHeader + "<message><body>x</stream:stream>",
        streamHeader + "<message></presence>",
        streamHeader + "<p:message/>",
        streamHeader + "<message xmlns:xml='urn:not-xml'/>",
        streamHeader + "<message a='1' a:b='2'/>",
        "<stream:stream xmlns:stream='\(streamsNamespace)'><stream:features></stream:stream>",
    ])
    func rejectsInputThatIsNotAWellFormedStream(input: String) {
        expectFailure(input, .notWellFormed)
    }

    /// Found by the `xml` fuzz target: expat reports junk after the root (`<x/> xmlns:`)
    /// at some chunk boundaries and not at others, so one stream ended cleanly read whole
    /// and in an error read byte by byte. Nothing after the close is parsed now.
    @Test(arguments: ["<r xmlns='urn:r'/> xmlns:", "<r xmlns='urn:r'/> x", "<r xmlns='urn:r'></r>junk<",
                      streamHeader + "</stream:stream><stream:stream>", streamHeader + "</stream:stream>\u{00}"])
    func ignoresWhateverFollowsTheStreamsClose(input: String) {
        let events = events(input)
        #expect(events.last == .streamClosed && events.count == 2, "\(events)")
    }

    @Test func rejectsRandomBytesWithoutCrashing() {
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<200 {
            let bytes = (0..<Int.random(in: 1...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let outcome = run([[bytes]])
            #expect(outcome.error != nil || bytes.first == UInt8(ascii: "<"), "random bytes \(bytes) parsed")
        }
    }

    @Test(arguments: [
        ("<!--x--><message/>", XML.StreamError.restrictedXML),
        ("<?pi?><message/>", .restrictedXML),
        ("<message a='1' a='2'/><message/>", .notWellFormed),
        ("x<message/>", .notWellFormed),
        ("<message/><!--x--><message/>", .restrictedXML),
        ("<message/>\u{1}<message/>", .notWellFormed),
    ])
    func neverDeliversAnythingFromAChunkWithAViolation(tail: String, expected: XML.StreamError) throws {
        let parser = XML.StreamParser()
        _ = try parser.feed(utf8(streamHeader))
        #expect(throws: expected) { try parser.feed(utf8(tail)) }
        #expect(parser.failure == expected)
        #expect(parser.failureDetail != nil)
    }

    @Test func keepsFailingWithTheFirstErrorEvenAfterReset() throws {
        let parser = XML.StreamParser()
        _ = try parser.feed(utf8(streamHeader))
        #expect(throws: XML.StreamError.restrictedXML) { try parser.feed(utf8("<!---->")) }
        #expect(throws: XML.StreamError.restrictedXML) { try parser.feed(utf8("<message/>")) }
        #expect(throws: XML.StreamError.restrictedXML) { try parser.feed(utf8("<?xml version='1.1'?>")) }
        parser.reset()
        #expect(throws: XML.StreamError.restrictedXML) { try parser.feed(utf8(streamHeader)) }
    }

    @Test func deliversNothingOfAStanzaCutOffByEndOfInput() throws {
        let parser = XML.StreamParser()
        #expect(try parser.feed(utf8(streamHeader + "<message><body>half")).count == 1)
        #expect(parser.bytesAfterLastEvent == 19)
    }
}
