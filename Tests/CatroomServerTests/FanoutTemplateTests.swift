@testable import CatroomServer
import CatroomProtocol
import CatroomXML
import Testing

/// A fan-out template's bytes read back as its per-recipient copy (CR-0005 §6.2),
/// and shapes one key position cannot express get no template.
@Suite struct FanoutTemplateTests {
    static let recipients = [("alice", "alice-id@localhost/r1"), ("bob", "bob-id@localhost/a&b'c\"<>"), ("carol", "carol-id@localhost/r")]

    static func message(_ encrypted: String, extra: String = "") throws -> XML.Element {
        let text = "<message xmlns='jabber:client' to='lobby@rooms.localhost' from='lobby@rooms.localhost/x' type='groupchat' id='m1'>"
            + "<encrypted xmlns='urn:catroom:e2e:0' id='i' commitment='c'>\(encrypted)</encrypted>\(extra)</message>"
        return try #require(parse(text))
    }

    @Test(arguments: [
        ("<recipient id='alice'/><recipient id='bob'/><key recipient='alice'>ka</key><key recipient='bob'>kb</key><payload>p</payload>", ""),
        ("<recipient id='alice'/><payload>p</payload>", "<body>x &amp; y</body>"),
        ("<key recipient='bob'>kb</key><key>orphan</key><payload>p</payload><unknown xmlns='urn:example'/>", ""),
        ("", "<thread>t</thread>"),
    ])
    func templateBytesReadBackAsTheCopy(_ encrypted: String, _ extra: String) throws {
        let message = try Self.message(encrypted, extra: extra)
        let template = try #require(FanoutTemplate(message))
        for (nick, address) in Self.recipients {
            let jid = try JID(address)
            let copy = FanoutTemplate.copy(of: message, to: jid, nick: nick)
            #expect(Self.parse(String(decoding: template.bytes(to: jid, nick: nick), as: UTF8.self)) == copy, "\(nick)")
            #expect(template.element(to: jid, nick: nick) == copy)
        }
    }

    @Test(arguments: [
        "<key recipient='alice'>ka</key><payload>p</payload><key recipient='bob'>kb</key>",
        "<key recipient='alice'>one</key><key recipient='alice'>two</key><payload>p</payload>",
    ])
    func keysOnePlaceCannotHoldGetNoTemplate(_ encrypted: String) throws {
        let message = try Self.message(encrypted)
        #expect(FanoutTemplate(message) == nil)
        let copy = FanoutTemplate.copy(of: message, to: try JID("alice-id@localhost/r1"), nick: "alice")
        let keys = copy.firstChild(name: "encrypted", namespace: Namespace.encrypted)?.children(name: "key", namespace: Namespace.encrypted)
        #expect(keys?.allSatisfy { $0.attribute("recipient") == "alice" } == true)
    }

    private static func parse(_ text: String) -> XML.Element? {
        let parser = XML.StreamParser()
        let events = try? parser.feed(Array(("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>" + text).utf8))
        guard case .element(let element)? = events?.last else { return nil }
        return element
    }
}
