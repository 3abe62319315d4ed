import CatroomXML
import Testing

/// `StreamParser.hibernate()`: expat freed between stanzas and rebuilt from the header.
/// `parseAllWays` and `expectFailure` also run every other test hibernating after each chunk.
@Suite struct HibernationTests {
    static let header = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:x='urn:example:x' "
        + "xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>"

    @Test func wakesWithTheRootsNamespacesInScope() throws {
        let parser = XML.StreamParser()
        #expect(try parser.feed(utf8(Self.header)).count == 1)
        #expect(parser.hibernate())
        #expect(parser.isHibernating)
        #expect(try parser.feed(utf8("<x:item a='1'/><message><x:body>hi</x:body></message>")) == [
            .element(XML.Element("item", namespace: "urn:example:x", attributes: ["a": "1"])),
            .element(XML.Element("message", namespace: clientNamespace) { XML.Element("body", namespace: "urn:example:x") { "hi" } }),
        ])
        #expect(!parser.isHibernating)
        #expect(parser.hibernate())
        #expect(try parser.feed(utf8(" ")).isEmpty, "a keepalive wakes it and delivers nothing")
        #expect(parser.streamWhitespaceBytes == 1)
        #expect(parser.hibernate())
        #expect(try parser.feed(utf8("</stream:stream>")) == [.streamClosed])
        #expect(!parser.hibernate(), "nothing to keep after the stream closed")
    }

    @Test func refusesWhileAnythingIsUnfinished() throws {
        let parser = XML.StreamParser()
        #expect(!parser.hibernate(), "before any byte")
        _ = try parser.feed(utf8("<?xml version='1.0'?><stream:stream xmlns='jabber:client'"))
        #expect(!parser.hibernate(), "inside the root's start tag")
        _ = try parser.feed(utf8(" xmlns:stream='http://etherx.jabber.org/streams'>"))
        #expect(parser.hibernate())
        for partial in ["<message><bo", "dy>h", "\u{E2}\u{82}", "</body>", "</message", ">\r"] {
            _ = try parser.feed(partial.utf8.map { $0 })
            #expect(!parser.hibernate(), "after \(partial.debugDescription)")
        }
        _ = try parser.feed(utf8("\n"))
        #expect(parser.hibernate(), "CR LF complete")
        _ = try? parser.feed(utf8("<!-- no -->"))
        #expect(parser.failure == .restrictedXML)
        #expect(!parser.hibernate(), "after a failure")
    }

    @Test func neverHibernatesAStreamWithALongHeader() throws {
        let long = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
            + "id='\(String(repeating: "a", count: 1100))'>"
        let parser = XML.StreamParser()
        _ = try parser.feed(utf8(long))
        #expect(!parser.hibernate())
        let short = XML.StreamParser()
        _ = try short.feed(utf8(Self.header + "<presence/>" + String(repeating: " ", count: 2000)))
        #expect(short.hibernate(), "bytes after the header in the same read do not count")
    }

    @Test func resetWhileHibernatingStartsAFreshDocument() throws {
        let parser = XML.StreamParser()
        _ = try parser.feed(utf8(Self.header))
        #expect(parser.hibernate())
        parser.reset()
        #expect(try parser.feed(utf8(streamHeader + "<presence/>")) == [
            .streamOpened(StreamParserTests.root), .element(XML.Element("presence", namespace: clientNamespace)),
        ])
        #expect(parser.hibernate())
        #expect(throws: XML.StreamError.notWellFormed, "x is not bound in the new document") { try parser.feed(utf8("<x:item/>")) }
    }

    @Test func limitsHoldAfterWaking() throws {
        let limits = XML.StreamParser.Limits(maxElementBytes: 300, maxDepth: 2)
        let parser = XML.StreamParser(limits: limits)
        _ = try parser.feed(utf8(Self.header + "<a/>"))
        #expect(parser.hibernate())
        #expect(throws: XML.StreamError.policyViolation(.depthExceeded)) { try parser.feed(utf8("<a><b><c/></b></a>")) }
        let sized = XML.StreamParser(limits: limits)
        _ = try sized.feed(utf8(Self.header))
        #expect(sized.hibernate())
        #expect(throws: XML.StreamError.stanzaTooBig) { try sized.feed(utf8("<a>\(String(repeating: "x", count: 300))</a>")) }
    }
}
