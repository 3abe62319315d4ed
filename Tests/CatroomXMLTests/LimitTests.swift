@testable import CatroomXML
import Testing

/// Every `StreamParser.Limits` entry; SECURITY-CASES XS-06 to XS-09.
@Suite struct LimitTests {
    static func nested(_ depth: Int) -> String {
        String(repeating: "<a>", count: depth) + String(repeating: "</a>", count: depth)
    }

    @Test func stopsDeepNestingAtOnceWithoutRecursion() {
        let input = utf8(streamHeader + String(repeating: "<a>", count: 100_000))
        let parser = XML.StreamParser()
        let elapsed = ContinuousClock().measure {
            #expect(throws: XML.StreamError.policyViolation(.depthExceeded)) { try parser.feed(input) }
        }
        #expect(elapsed < .milliseconds(100))
        expectFailure(input, .policyViolation(.depthExceeded), everySplit: false)
    }

    @Test func acceptsNestingUpToTheDepthLimit() {
        #expect(parseStanza(Self.nested(64)) != nil)
        expectFailure(streamHeader + Self.nested(65), .policyViolation(.depthExceeded))
        let limits = XML.StreamParser.Limits(maxDepth: 3)
        #expect(events(streamHeader + Self.nested(3), limits: limits).count == 2)
        expectFailure(streamHeader + Self.nested(4), .policyViolation(.depthExceeded), limits: limits)
    }

    static func attributes(_ count: Int) -> String {
        (0..<count).map { " a\($0)='x'" }.joined()
    }

    @Test func rejectsAnAttributeFlood() {
        let input = utf8(streamHeader + "<message" + Self.attributes(20_000) + "/>")
        let parser = XML.StreamParser()
        let elapsed = ContinuousClock().measure {
            #expect(throws: XML.StreamError.policyViolation(.tooManyAttributes)) { try parser.feed(input) }
        }
        #expect(elapsed < .milliseconds(100))
        expectFailure(input, .policyViolation(.tooManyAttributes), everySplit: false)
    }

    @Test func acceptsAttributesUpToTheLimit() {
        #expect(parseStanza("<message" + Self.attributes(64) + "/>")?.attributes.count == 64)
        expectFailure(streamHeader + "<message" + Self.attributes(65) + "/>", .policyViolation(.tooManyAttributes))
        expectFailure("<stream" + Self.attributes(65) + ">", .policyViolation(.tooManyAttributes))
    }

    @Test func rejectsDuplicateAttributesIncludingThroughPrefixes() {
        expectFailure(streamHeader + "<message id='1' id='2'/>", .notWellFormed)
        expectFailure(streamHeader + "<message xmlns:a='urn:u' xmlns:b='urn:u' a:k='1' b:k='2'/>", .notWellFormed)
    }

    @Test func rejectsOverlongNamesAndNamespaces() {
        let long = String(repeating: "n", count: 1025)
        let fits = String(repeating: "n", count: 1024)
        #expect(parseStanza("<\(fits) \(fits)='1' xmlns:p='urn:\(fits.dropFirst(4))' p:\(fits)='2'/>") != nil)
        expectFailure(streamHeader + "<\(long)/>", .policyViolation(.nameTooLong), everySplit: false)
        expectFailure(streamHeader + "<m \(long)='1'/>", .policyViolation(.nameTooLong), everySplit: false)
        expectFailure(streamHeader + "<m xmlns='urn:\(long)'/>", .policyViolation(.nameTooLong), everySplit: false)
        expectFailure(streamHeader + "<m xmlns:p='urn:\(long)' p:a='1'/>", .policyViolation(.nameTooLong), everySplit: false)
    }

    @Test func rejectsOverlongAttributeValues() {
        let limits = XML.StreamParser.Limits(maxAttributeValueBytes: 100)
        let fits = String(repeating: "v", count: 100)
        #expect(events(streamHeader + "<m a='\(fits)'/>", limits: limits).count == 2)
        expectFailure(streamHeader + "<m a='\(fits)v'/>", .policyViolation(.attributeValueTooLong), limits: limits)
        expectFailure(streamHeader + "<m a='\(String(repeating: "&amp;", count: 101))'/>", .policyViolation(.attributeValueTooLong), limits: limits)
    }

    @Test func countsAStanzasBytesFromItsStartTagToItsEndTag() {
        // The stream header must fit too, so the limit is a little larger than it.
        let limits = XML.StreamParser.Limits(maxElementBytes: 200)
        let exact = "<m><body>" + String(repeating: "x", count: 180) + "</body></m>"
        #expect(exact.utf8.count == 200)
        #expect(events(streamHeader + exact + " " + exact, limits: limits).count == 3)
        expectFailure(streamHeader + "<m><body>" + String(repeating: "x", count: 181) + "</body></m>", .stanzaTooBig, limits: limits)
    }

    /// Feeds `chunk` until the parser fails; returns the error and how many bytes it took.
    static func feedUntilFailure(_ start: String, _ chunk: [UInt8], limit: Int = 100_000) -> (XML.StreamError?, Int) {
        let parser = XML.StreamParser()
        var fed = 0
        do {
            _ = try parser.feed(utf8(start))
            fed += start.utf8.count
            while fed < limit * chunk.count {
                _ = try parser.feed(chunk)
                fed += chunk.count
            }
        } catch {
            return (error, fed)
        }
        return (nil, fed)
    }

    @Test(arguments: [
        streamHeader + "<message><body>",  // an endless text node
        streamHeader + "<message><body a='",  // an endless attribute value: no handler fires
        streamHeader + "<message><body a='1'>x</body><c",  // an endless name
        "<stream:stream a='",  // an endless stream header
        "",  // endless bytes before the stream header
    ])
    func stopsAnOversizedStanzaWithoutReadingItAll(start: String) {
        let chunk = utf8(start.isEmpty ? String(repeating: " ", count: 1000) : String(repeating: "x", count: 1000))
        let (error, fed) = Self.feedUntilFailure(start, chunk)
        #expect(error == .stanzaTooBig)
        #expect(fed <= 256 * 1024 + start.utf8.count + chunk.count)
    }

    @Test func letsWhitespaceKeepalivesRunForever() throws {
        let parser = XML.StreamParser(limits: .init(maxElementBytes: 200))
        _ = try parser.feed(utf8(streamHeader))
        for _ in 0..<1000 { _ = try parser.feed(utf8("    ")) }
        #expect(try parser.feed(utf8("<presence/>")).count == 1)
        #expect(parser.streamWhitespaceBytes == 4000)
    }

    // MARK: - XS-09: big tokens in small chunks

    /// Feeds a stanza whose start tag holds an attribute value of `size` bytes one byte at a
    /// time; returns how many bytes expat scanned, re-scans included.
    static func scannedBytes(valueBytes size: Int, filler: String) throws -> Int {
        let value = String(repeating: filler, count: size / filler.utf8.count)
        let quote = filler.contains("'") ? "\"" : "'"
        let stanza = utf8("<message a=\(quote)" + value + "\(quote)/>")
        let parser = XML.StreamParser(limits: .init(maxAttributeValueBytes: 1 << 20))
        _ = try parser.feed(utf8(streamHeader))
        var delivered: [Event] = []
        for byte in stanza { delivered += try parser.feed([byte]) }
        #expect(delivered.count == 1)
        return parser.expatScannedBytes
    }

    @Test(arguments: ["x", ">", "'", "&amp;"])
    func scansABigTokenFedByteByByteInLinearTime(filler: String) throws {
        // expat alone re-scans the whole token on every call: n²/2, 8 GB for 128 KiB.
        // Here each byte is scanned a bounded number of times past the cheap re-scan zone.
        let cheap = XML.StreamParser.cheapRescanBytes
        for size in [32 * 1024, 128 * 1024] {
            #expect(try Self.scannedBytes(valueBytes: size, filler: filler) < 4 * size + cheap * cheap)
        }
    }

    @Test func holdingBackBytesNeverDelaysACompleteStanza() {
        // An attribute longer than the cheap re-scan bound, quotes and '>' inside values,
        // checked whole, byte by byte and split at every offset.
        let stanza = parseStanza("<message a=\"" + String(repeating: "ab>&quot;'", count: 700) + "\" b='>'/>")
        #expect(stanza?.attribute("a") == String(repeating: "ab>\"'", count: 700))
    }

    @Test func randomChunkingsOfLargeStanzasGiveTheSameEvents() throws {
        let big = "<message a='" + String(repeating: "ab>", count: 3000) + "'><body>" + String(repeating: "t&lt;", count: 3000)
            + "</body></message>"
        let input = utf8(streamHeader + big + " " + big + "</stream:stream>")
        let whole = run([[input]])
        #expect(whole.error == nil && whole.events.count == 4)
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<50 {
            var chunks: [[UInt8]] = []
            var offset = 0
            while offset < input.count {
                let end = min(input.count, offset + Int.random(in: 1...4000, using: &generator))
                chunks.append(Array(input[offset..<end]))
                offset = end
            }
            let outcome = run([chunks])
            #expect(outcome.error == nil && outcome.events == whole.events, "chunk sizes \(chunks.map(\.count))")
        }
    }
}

/// A small deterministic generator (SplitMix64), so chunkings are the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
