import CatroomXML
import Testing

@Suite struct RoundTripTests {
    static let stanzas = [
        "<message to='a@x' type='chat' id='1'><body>plain</body></message>",
        "<message><body>&lt;tag&gt; &amp; &quot;q&quot; &apos;a&apos; \" ' ]]&gt;</body></message>",
        "<iq a='&lt;&amp;&gt;&quot;&apos;' b=\"'\" c='\"' d='&#9;&#10;&#13;'><q>&#13;</q></iq>",
        "<message xml:lang='en'><body xml:lang='de'>Hallo</body></message>",
        "<message><x xmlns='urn:ext'><y/><z xmlns='jabber:client'/></x><u xmlns=''/></message>",
        "<p:iq xmlns:p='urn:p' xmlns:q='urn:q' q:attr='1' attr='2'><q:child p:k='v'/></p:iq>",
        "<presence/>",
        "<message><body><![CDATA[<not> & markup]]></body><empty></empty></message>",
        "<message><body>é € 😺 \u{10FFFF}</body></message>",
        "<a> <b>  </b> </a>",
        // An element in the XML namespace cannot take it as a default namespace (found by the xml fuzz target).
        "<message><xml:x xml:lang='en'>t<y/><xml:z/></xml:x></message>",
    ]

    @Test(arguments: stanzas)
    func parsingTheSerialisationGivesTheSameTree(stanza: String) throws {
        let parsed = try #require(parseStanza(stanza))
        let serialized = parsed.serializedString(inheritedNamespace: clientNamespace)
        let reparsed = try #require(parseStanza(serialized))
        #expect(reparsed == parsed, "serialised as \(serialized)")
        #expect(reparsed.serializedString(inheritedNamespace: clientNamespace) == serialized, "serialisation is canonical")
    }

    @Test func builtTreesEqualTheirParsedSerialisation() throws {
        var body = XML.Element("body", namespace: clientNamespace) { "a < b & \"c\" 'd' \r\n\t😺" }
        body[attribute: "lang", namespace: XML.xmlNamespace] = "en"
        body[attribute: "k", namespace: "urn:k"] = "v'\"<>&\t\n\r"
        let message = XML.Element("message", namespace: clientNamespace, attributes: ["to": "x"]) {
            body
            XML.Element("x", namespace: "urn:ext") { XML.Element("y", namespace: "") }
        }
        let reparsed = parseStanza(message.serializedString(inheritedNamespace: clientNamespace))
        #expect(reparsed == message)
    }
}
