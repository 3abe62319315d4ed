import CatroomXML
import Testing

/// RFC 6120 §11.1 and §11.6; SECURITY-CASES XS-01 to XS-04.
@Suite struct RestrictedXMLTests {
    static let billionLaughs = "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol0 'lol'>"
        + (1...9).map { level in "<!ENTITY lol\(level) '" + String(repeating: "&lol\(level - 1);", count: 10) + "'>" }.joined()
        + "]><lolz>&lol9;</lolz>"

    @Test func rejectsBillionLaughsAtTheDoctypeBeforeAnyEntityIsDeclared() throws {
        expectFailure(Self.billionLaughs, .restrictedXML, everySplit: false)
        let parser = XML.StreamParser()
        let elapsed = ContinuousClock().measure {
            #expect(throws: XML.StreamError.restrictedXML) { try parser.feed(utf8(Self.billionLaughs)) }
        }
        #expect(parser.failureDetail?.contains("document type declaration") == true, "stopped by the doctype handler, not by expat's amplification limit")
        #expect(elapsed < .milliseconds(100))
    }

    @Test(arguments: [
        "<!DOCTYPE stream:stream>",
        streamHeader + "<!DOCTYPE x [<!ENTITY a 'b'>]>",
        streamHeader + "<message><!DOCTYPE x>",
        streamHeader + "<!ENTITY a 'b'>",
    ])
    func rejectsADoctypeBeforeOrInsideTheStream(input: String) {
        expectFailure(input, .restrictedXML)
    }

    @Test(arguments: [
        "<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>",
        "<!DOCTYPE x SYSTEM 'http://127.0.0.1/evil.dtd'><x/>",
        "<!DOCTYPE x [<!ENTITY % p SYSTEM 'file:///etc/passwd'> %p;]><x/>",
        "<!DOCTYPE x [<!NOTATION n SYSTEM 'n'><!ENTITY u SYSTEM 'u' NDATA n>]><x/>",
    ])
    func rejectsExternalEntitiesAtTheDoctype(input: String) {
        expectFailure(input, .restrictedXML)
    }

    @Test(arguments: [
        "<!-- before -->" + streamHeader,
        streamHeader + "<!-- between -->",
        streamHeader + "<message><!-- inside --></message>",
        streamHeader + "<message><body>x<!---->y</body></message>",
    ])
    func rejectsComments(input: String) {
        expectFailure(input, .restrictedXML)
    }

    @Test(arguments: [
        "<?pi data?>" + streamHeader,
        streamHeader + "<?pi?>",
        streamHeader + "<message><?xml-stylesheet href='x'?></message>",
    ])
    func rejectsProcessingInstructions(input: String) {
        expectFailure(input, .restrictedXML)
    }

    @Test(arguments: [
        streamHeader + "<?xml version='1.0'?>",
        streamHeader + "<message><?xml version='1.0'?></message>",
        " <?xml version='1.0'?><r/>",
    ])
    func rejectsAMisplacedXMLDeclaration(input: String) {
        expectFailure(input, .restrictedXML)
    }

    @Test(arguments: ["ISO-8859-1", "UTF-16", "US-ASCII", "utf8"])
    func rejectsADeclaredEncodingOtherThanUTF8(encoding: String) {
        expectFailure("<?xml version='1.0' encoding='\(encoding)'?><r/>", .unsupportedEncoding)
    }

    @Test(arguments: [[0xFF, 0xFE], [0xFE, 0xFF], [], [0x00, 0x00]] as [[UInt8]])
    func rejectsUTF16AndUTF32Input(byteOrderMark: [UInt8]) {
        // expat honours a byte-order mark even when told the input is UTF-8.
        let bigEndian = byteOrderMark == [0xFE, 0xFF] || byteOrderMark == [0x00, 0x00]
        let text = utf8("<?xml version='1.0' encoding='UTF-16'?><r/>")
        let wide: [UInt8] = text.flatMap { bigEndian ? [0, $0] : [$0, 0] }
        expectFailure(byteOrderMark + wide, .unsupportedEncoding)
    }

    @Test(arguments: ["1.1", "1.9", "2.0"])
    func rejectsXMLVersionsOtherThan1_0(version: String) {
        expectFailure("<?xml version='\(version)'?><r/>", .unsupportedVersion)
    }

    @Test func rejectsStandaloneNo() {
        expectFailure("<?xml version='1.0' standalone='no'?><r/>", .restrictedXML)
    }

    @Test func acceptsStandaloneYesAndAnyCaseOfUTF8() {
        #expect(events("<?xml version='1.0' encoding='Utf-8' standalone='yes'?><r/>") == [.streamOpened(XML.Element("r")), .streamClosed])
    }

    @Test func rejectsUndefinedEntityReferences() {
        // With no DTD to declare it, `&x;` is an undefined entity, not a silently skipped one.
        expectFailure(streamHeader + "<message>&x;</message>", .notWellFormed)
        expectFailure(streamHeader + "<message a='&x;'/>", .notWellFormed)
    }
}
