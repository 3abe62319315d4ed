import CatroomXML
import Testing

@Suite struct StreamParserTests {
    static let root = XML.Element(
        "stream", namespace: streamsNamespace, attributes: ["to": "example.com", "version": "1.0"]
    )

    @Test func deliversStreamOpenStanzasAndCloseHoweverTheBytesArrive() {
        let input = streamHeader + "\n <message to='a@x' type='chat'><body>hi</body></message> \n"
            + "<presence/>\t <iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>  </stream:stream>"
        #expect(events(input) == [
            .streamOpened(Self.root),
            .element(XML.Element("message", namespace: clientNamespace, attributes: ["to": "a@x", "type": "chat"]) {
                XML.Element("body", namespace: clientNamespace) { "hi" }
            }),
            .element(XML.Element("presence", namespace: clientNamespace)),
            .element(XML.Element("iq", namespace: clientNamespace, attributes: ["type": "get", "id": "1"]) {
                XML.Element("ping", namespace: "urn:xmpp:ping")
            }),
            .streamClosed,
        ])
    }

    @Test func countsWhitespaceKeepalivesWithoutEvents() throws {
        let parser = XML.StreamParser()
        _ = try parser.feed(utf8(streamHeader))
        #expect(try parser.feed(utf8(" ")).isEmpty)
        #expect(try parser.feed(utf8("\n\r\n\t")).isEmpty)
        #expect(parser.streamWhitespaceBytes == 4, "CR LF is normalised to one LF")
        #expect(parser.bytesAfterLastEvent == 0)
    }

    @Test func multiByteCharactersSurviveEverySplit() {
        // 2-, 3- and 4-byte UTF-8 in a name, an attribute value and text.
        let stanza = parseStanza("<café note='é€😺'>ü€😺x😺</café>")
        #expect(stanza == XML.Element("café", namespace: clientNamespace, attributes: ["note": "é€😺"]) { "ü€😺x😺" })
    }

    @Test func restartsWithAFreshDocumentAfterReset() {
        let first = streamHeader + "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
        let second = streamHeader + "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>"
        let third = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>"
            + "<iq type='set' id='b'/></stream:stream>"
        let all = events(first, second, third)
        #expect(all == [
            .streamOpened(Self.root),
            .element(XML.Element("starttls", namespace: "urn:ietf:params:xml:ns:xmpp-tls")),
            .streamOpened(Self.root),
            .element(XML.Element("auth", namespace: "urn:ietf:params:xml:ns:xmpp-sasl", attributes: ["mechanism": "PLAIN"]) { "AGEAYg==" }),
            .streamOpened(Self.root),
            .element(XML.Element("iq", namespace: clientNamespace, attributes: ["type": "set", "id": "b"])),
            .streamClosed,
        ])
    }

    @Test func resetDropsAHalfParsedStanza() throws {
        let parser = XML.StreamParser()
        _ = try parser.feed(utf8(streamHeader + "<message><bo"))
        parser.reset()
        #expect(try parser.feed(utf8(streamHeader + "<presence/>")) == [.streamOpened(Self.root), .element(XML.Element("presence", namespace: clientNamespace))])
    }

    @Test(arguments: [false, true])
    func deliversAStanzaFedInThreeBytePiecesOnTheFeedThatCompletesIt(afterReset: Bool) throws {
        // Without switching expat's reparse deferral off (again after each reset, which
        // turns it back on), the stanza would wait for more input.
        let parser = XML.StreamParser()
        if afterReset {
            _ = try parser.feed(utf8(streamHeader))
            parser.reset()
        }
        _ = try parser.feed(utf8(streamHeader))
        let stanza = utf8("<message to='alice@example.com' id='m1'><body>Hello there</body></message>")
        var offset = 0
        while offset < stanza.count {
            let end = min(offset + 3, stanza.count)
            let delivered = try parser.feed(stanza[offset..<end])
            #expect(delivered.isEmpty == (end < stanza.count), "delivered \(delivered) after byte \(end) of \(stanza.count)")
            offset = end
        }
    }

    @Test func deliversEachEventOnTheByteThatCompletesIt() throws {
        let parts = [streamHeader, "<a/>", " ", "<b x='>'>t</b>", "<c/>", "</stream:stream>"]
        let parser = XML.StreamParser()
        var deliveredAt: [Int] = []
        for (index, byte) in utf8(parts.joined()).enumerated() {
            deliveredAt += try parser.feed([byte]).map { _ in index }
        }
        // The last byte of every part except the whitespace.
        let ends = parts.indices.map { utf8(parts[...$0].joined()).count - 1 }
        #expect(deliveredAt == [ends[0], ends[1], ends[3], ends[4], ends[5]])
    }

    @Test func countsBytesSentAfterTheLastEvent() throws {
        let parser = XML.StreamParser()
        _ = try parser.feed(utf8(streamHeader))
        #expect(try parser.feed(utf8("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")).count == 1)
        #expect(parser.bytesAfterLastEvent == 0)
        #expect(try parser.feed(utf8("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><mess")).count == 1)
        #expect(parser.bytesAfterLastEvent == 5, "bytes pipelined after a request to start TLS are visible")
    }

    @Test func acceptsAByteOrderMarkAndAFullXMLDeclaration() {
        let input = "\u{FEFF}<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?><r xmlns='urn:r'><a/></r>"
        #expect(events(input) == [.streamOpened(XML.Element("r", namespace: "urn:r")), .element(XML.Element("a", namespace: "urn:r")), .streamClosed])
    }

    @Test func ignoresEmptyFeeds() throws {
        let parser = XML.StreamParser()
        #expect(try parser.feed([UInt8]()).isEmpty)
        #expect(try parser.feed(UnsafeRawBufferPointer(start: nil, count: 0)).isEmpty)
        #expect(try parser.feed(utf8(streamHeader)) == [.streamOpened(Self.root)])
    }

    @Test func acceptsNonContiguousCollections() throws {
        let parser = XML.StreamParser()
        #expect(try parser.feed(utf8(streamHeader + "<a/>").lazy.map { $0 }) == [.streamOpened(Self.root), .element(XML.Element("a", namespace: clientNamespace))])
    }

    @Test func namesAreNamespaceAndLocalNameWhateverThePrefix() {
        let plain = parseStanza("<message><body>x</body></message>")
        let prefixed = parseStanza("<c:message xmlns:c='jabber:client'><c:body>x</c:body></c:message>")
        let redeclared = parseStanza("<message xmlns='jabber:client'><body xmlns='jabber:client'>x</body></message>")
        #expect(plain == prefixed)
        #expect(plain == redeclared)
        // The streams namespace under another prefix is still that namespace (XS-10).
        let odd = parseStanza("<s:error xmlns:s='http://etherx.jabber.org/streams'/>")
        #expect(odd == XML.Element("error", namespace: streamsNamespace))
    }

    @Test func reportsAnUnexpectedStreamNamespaceForTheCallerToJudge() {
        let all = events("<stream:stream xmlns:stream='urn:wrong' xmlns='urn:other'><x/>")
        #expect(all == [.streamOpened(XML.Element("stream", namespace: "urn:wrong")), .element(XML.Element("x", namespace: "urn:other"))])
    }

    @Test func mergesTextCDATAAndReferencesIntoOneNode() {
        let stanza = parseStanza("<body>a<![CDATA[<b>&amp;]]>&amp;&#x263A;&#65;\r\nz</body>")
        #expect(stanza?.children == [.text("a<b>&amp;&☺A\nz")])
    }
}
