import CatroomXML
import Testing

@Suite struct SerializerTests {
    @Test func writesNamespaceDeclarationsOnlyWhereTheDefaultChanges() {
        let message = XML.Element("message", namespace: clientNamespace, attributes: ["to": "room@x"]) {
            XML.Element("body", namespace: clientNamespace) { "hi" }
            XML.Element("x", namespace: "urn:ext") {
                XML.Element("item", namespace: "urn:ext")
                XML.Element("back", namespace: clientNamespace)
            }
        }
        #expect(message.serializedString(inheritedNamespace: clientNamespace)
            == "<message to='room@x'><body>hi</body><x xmlns='urn:ext'><item/><back xmlns='jabber:client'/></x></message>")
        #expect(message.serializedString().hasPrefix("<message xmlns='jabber:client' to='room@x'>"))
    }

    @Test func declaresTheEmptyNamespaceForAnUnqualifiedChild() {
        let element = XML.Element("a", namespace: "urn:a") { XML.Element("b") }
        #expect(element.serializedString() == "<a xmlns='urn:a'><b xmlns=''/></a>")
        #expect(XML.Element("b").serializedString() == "<b/>")
    }

    @Test func writesXMLNamespaceAttributesWithTheXMLPrefix() {
        var element = XML.Element("body", namespace: clientNamespace)
        element[attribute: "lang", namespace: XML.xmlNamespace] = "de"
        #expect(element.serializedString(inheritedNamespace: clientNamespace) == "<body xml:lang='de'/>")
    }

    @Test func generatesPrefixesForOtherNamespacedAttributes() {
        var inner = XML.Element("c")
        inner[attribute: "k", namespace: "urn:p"] = "2"
        inner[attribute: "m", namespace: "urn:q"] = "3"
        var outer = XML.Element("a", attributes: [], children: [.element(inner), .element(inner)])
        outer[attribute: "k", namespace: "urn:p"] = "1"
        #expect(outer.serializedString() == "<a xmlns:ns0='urn:p' ns0:k='1'>"
            + "<c xmlns:ns1='urn:q' ns0:k='2' ns1:m='3'/><c xmlns:ns2='urn:q' ns0:k='2' ns2:m='3'/></a>")
    }

    @Test func escapesMarkupCharactersInTextAndAttributes() {
        let element = XML.Element("a", attributes: ["v": #"<&>"'"#]) { #"<&>"'"# }
        #expect(element.serializedString() == #"<a v='&lt;&amp;&gt;&quot;&apos;'>&lt;&amp;&gt;"'</a>"#)
    }

    @Test func writesAttributeWhitespaceAndCarriageReturnsAsReferences() {
        let element = XML.Element("a", attributes: ["v": "1\t2\n3\r4"]) { "x\ty\nz\r." }
        #expect(element.serializedString() == "<a v='1&#9;2&#10;3&#13;4'>x\ty\nz&#13;.</a>")
    }

    @Test func replacesCharactersXMLForbidsWithTheReplacementCharacter() {
        let forbidden = "a\u{0}b\u{1}c\u{8}d\u{B}e\u{C}f\u{1B}g\u{1F}h\u{FFFE}i\u{FFFF}j"
        let element = XML.Element("a", attributes: ["v": forbidden]) { forbidden }
        let cleaned = "a\u{FFFD}b\u{FFFD}c\u{FFFD}d\u{FFFD}e\u{FFFD}f\u{FFFD}g\u{FFFD}h\u{FFFD}i\u{FFFD}j"
        #expect(element.serializedString() == "<a v='\(cleaned)'>\(cleaned)</a>")
        // Allowed neighbours pass untouched: U+FFFD itself, U+FFFC, U+EFFFF, DEL.
        let allowed = "\u{FFFD}\u{FFFC}\u{EFFFF}\u{7F}\u{10FFFF}"
        #expect(XML.Element("a") { allowed }.serializedString() == "<a>\(allowed)</a>")
    }

    @Test func selfClosesElementsWithoutChildren() {
        let element = XML.Element("presence", attributes: ["type": "unavailable"]) { XML.Element("x") }
        #expect(element.serializedString() == "<presence type='unavailable'><x/></presence>")
        #expect(XML.Element("a") { "" }.serializedString() == "<a/>")
    }

    @Test func writesAStreamRootsOpeningAndClosingTags() {
        let root = XML.Element("stream", namespace: streamsNamespace, attributes: ["to": "x", "version": "1.0"])
        let declarations: [XML.NamespaceDeclaration] = [.defaultNamespace(clientNamespace), .init(prefix: "stream", uri: streamsNamespace)]
        #expect(String(decoding: root.serializedOpeningTag(declaring: declarations), as: UTF8.self)
            == "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='x' version='1.0'>")
        #expect(String(decoding: root.serializedClosingTag(declaring: declarations), as: UTF8.self) == "</stream:stream>")
        let unprefixed = XML.Element("doc", namespace: "urn:d")
        #expect(String(decoding: unprefixed.serializedOpeningTag(declaring: [.defaultNamespace("urn:d")]), as: UTF8.self) == "<doc xmlns='urn:d'>")
        #expect(String(decoding: unprefixed.serializedClosingTag(declaring: [.defaultNamespace("urn:d")]), as: UTF8.self) == "</doc>")
    }

    @Test func openingTagsGeneratedPrefixesAvoidDeclaredOnes() {
        var root = XML.Element("r", namespace: "urn:r")
        root[attribute: "a", namespace: "urn:x"] = "1"
        let bytes = root.serializedOpeningTag(declaring: [.init(prefix: "ns0", uri: "urn:r")])
        #expect(String(decoding: bytes, as: UTF8.self) == "<ns0:r xmlns:ns0='urn:r' xmlns:ns1='urn:x' ns1:a='1'>")
    }

    @Test func serializeIntoAppendsToTheBuffer() {
        var buffer = utf8("<s>")
        XML.Element("a", namespace: clientNamespace).serialize(into: &buffer, inheritedNamespace: clientNamespace)
        XML.Element("b").serialize(into: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == "<s><a/><b/>")
    }

    @Test func treatsANamespaceDeclarationAttributeAsAProgrammingError() async {
        await #expect(processExitsWith: .failure) {
            _ = XML.Element("a", attributes: ["xmlns": "urn:wrong"]).serialized()
        }
    }
}
