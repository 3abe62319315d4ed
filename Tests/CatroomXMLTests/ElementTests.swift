import CatroomXML
import Testing

@Suite struct ElementTests {
    @Test func builderKeepsAttributeOrderAndMergesAdjacentText() {
        let element = XML.Element("message", namespace: clientNamespace, attributes: ["to": "a@x", "type": "chat", "id": "1"]) {
            "Hello, "
            "world"
            ""
            XML.Element("body", namespace: clientNamespace) { "hi" }
        }
        #expect(element.attributes.map(\.name) == ["to", "type", "id"])
        #expect(element.children == [
            .text("Hello, world"),
            .element(XML.Element("body", namespace: clientNamespace, attributes: [], children: [.text("hi")])),
        ])
    }

    @Test func builderTakesConditionalsLoopsAndOptionals() {
        let names = ["a", "b"]
        let missing: XML.Element? = nil
        for flag in [true, false] {
            let element = XML.Element("list") {
                for name in names { XML.Element(name) }
                if flag { XML.Element("yes") } else { "no" }
                missing
                names.map { XML.Element("item", attributes: ["name": $0]) }
            }
            #expect(element.childElements.map(\.name) == ["a", "b"] + (flag ? ["yes"] : []) + ["item", "item"])
            #expect(element.text == (flag ? "" : "no"))
        }
    }

    @Test func attributeSubscriptReplacesAppendsAndRemoves() {
        var element = XML.Element("iq", attributes: ["type": "get", "id": "7"])
        element[attribute: "type"] = "result"
        element[attribute: "to"] = "x"
        element[attribute: "lang", namespace: XML.xmlNamespace] = "en"
        element[attribute: "id"] = nil
        element[attribute: "absent"] = nil
        #expect(element.attributes == [
            XML.Attribute("type", value: "result"),
            XML.Attribute("to", value: "x"),
            XML.Attribute("lang", namespace: XML.xmlNamespace, value: "en"),
        ])
        #expect(element.attribute("lang") == nil, "an unprefixed name does not find a namespaced attribute")
        #expect(element.attribute("lang", namespace: XML.xmlNamespace) == "en")
    }

    @Test func childQueriesMatchNamespaceAsWellAsName() {
        let element = XML.Element("message", namespace: clientNamespace) {
            XML.Element("body", namespace: "urn:other") { "spoof" }
            XML.Element("body", namespace: clientNamespace) { "real" }
            "text"
            XML.Element("body", namespace: clientNamespace) { "second" }
        }
        #expect(element.firstChild(name: "body", namespace: clientNamespace)?.text == "real")
        #expect(element.children(name: "body", namespace: clientNamespace).map(\.text) == ["real", "second"])
        #expect(element.firstChild(name: "body", namespace: "") == nil)
        #expect(element.childElements.count == 3)
    }

    @Test func textJoinsDirectTextOnly() {
        let element = XML.Element("a", attributes: [], children: [.text("x"), .element(XML.Element("b") { "inner" }), .text("y")])
        #expect(element.text == "xy")
    }

    @Test func appendingTextMergesWithTrailingText() {
        var element = XML.Element("a")
        element.append(text: "x")
        element.append(text: "")
        element.append(text: "y")
        element.append(XML.Element("b"))
        element.append(text: "z")
        #expect(element.children == [.text("xy"), .element(XML.Element("b")), .text("z")])
    }
}
