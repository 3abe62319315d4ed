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

    @Test func refusesInsideACDATASectionBetweenStanzas() throws {
        // Whitespace in the section moves the boundary, but expat is still inside it.
        let parser = XML.StreamParser()
        _ = try parser.feed(utf8(Self.header + "<![CDATA[ "))
        #expect(!parser.hibernate())
        #expect(throws: XML.StreamError.notWellFormed, "text between stanzas") { try parser.feed(utf8("<message/>")) }
        let closing = XML.StreamParser()
        _ = try closing.feed(utf8(Self.header + "<![CDATA[ "))
        #expect(try closing.feed(utf8(" ]]><presence/>")).count == 1)
        #expect(closing.hibernate(), "the section ended")
        #expect(try closing.feed(utf8("<presence/>")).count == 1)
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

/// Hibernating after every chunk must change nothing: random streams of tricky
/// fragments, randomly chunked, parsed both ways (a fixed seed, so a failure repeats).
@Suite struct HibernationDifferentialTests {
    static let header = "<?xml version='1.0'?>\r\n<stream:stream xmlns='jabber:client' xmlns:x='urn:x' "
        + "xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>"
    static let fragments = [
        " ", "\r", "\n", "\r\n", "\t", "<![CDATA[", "<![CDATA[x]]>", "]]>", "<!", "<!D", "<!-", "&#", "&#x", ";",
        "<z:e/>\r", "</x:item>", "<x:item>", "<b><![CDATA[ ]]></b>", "\u{E2}\u{82}\u{AC}", "\u{E2}", "\u{2028}",
        "<a>\r</a>", "\u{0}", "]", "<a/>", "<b>", "</b>", "x", "é", "&#32;", "&#13;", "&amp;", "<!--", "-->",
        "<?pi?>", "</stream:stream>", "<c xmlns:z='urn:z'><z:d/></c>", "<x:item/>", "<", ">", "'", "\u{FEFF}",
        "<!DOCTYPE", "<a b='&#10;\r\n'>", "</a>",
    ]

    @Test func randomStreamsGiveTheSameOutcomeHibernatingOrNot() {
        var random = SeededGenerator(seed: 0x6361_7472_6F6F_6D)
        for iteration in 0..<4000 {
            var bytes = utf8(Self.header)
            for _ in 0..<Int.random(in: 1...8, using: &random) {
                bytes += utf8(Self.fragments.randomElement(using: &random)!)
            }
            var chunks: [[UInt8]] = []
            var start = 0
            while start < bytes.count {
                let length = Bool.random(using: &random) ? 1 : Int.random(in: 1...bytes.count - start, using: &random)
                chunks.append(Array(bytes[start..<min(bytes.count, start + length)]))
                start += length
            }
            var documents = [chunks]
            if iteration % 5 == 0 {
                documents.append([utf8("<s xmlns='q'>"), utf8(Self.fragments.randomElement(using: &random)!)])
            }
            let limits = XML.StreamParser.Limits(maxElementBytes: iteration % 3 == 0 ? 200 : 256 * 1024, maxDepth: 2)
            let awake = run(documents, limits: limits)
            let hibernating = run(documents, limits: limits, hibernating: true)
            guard awake == hibernating else {
                Issue.record("iteration \(iteration): \(documents) awake \(awake), hibernating \(hibernating)")
                return
            }
        }
    }
}
