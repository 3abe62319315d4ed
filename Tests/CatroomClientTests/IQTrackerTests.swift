import CatroomProtocol
import CatroomXML
import Testing
@testable import CatroomClient

/// Only a reply from where a request went answers it (CR-0004 §5.3).
@Suite struct IQTrackerTests {
    static func reply(from: String?) -> XML.Element {
        var reply = XML.Element("iq", namespace: Namespace.client, attributes: [XML.Attribute("type", value: "result"), XML.Attribute("id", value: "q1")])
        reply[attribute: "from"] = from
        return reply
    }

    @Test func aReplyFromAnotherAddressIsNotAnAnswer() throws {
        let account = try JID("ofis7ywedwdebwm4u6ce2y4cirv3ebac@chat.example.org")
        #expect(IQTracker.answers(Self.reply(from: "ofis7ywedwdebwm4u6ce2y4cirv3ebac@chat.example.org"), requestTo: account))
        // Another account guessing the id: the server stamped its own address.
        #expect(!IQTracker.answers(Self.reply(from: "aaaa7ywedwdebwm4u6ce2y4cirv3ebac@chat.example.org/x"), requestTo: account))
        #expect(!IQTracker.answers(Self.reply(from: "ofis7ywedwdebwm4u6ce2y4cirv3ebac@chat.example.org/phone"), requestTo: account))
        #expect(!IQTracker.answers(Self.reply(from: "chat.example.org"), requestTo: account))
        #expect(!IQTracker.answers(Self.reply(from: nil), requestTo: account))
        #expect(!IQTracker.answers(Self.reply(from: "not a jid@@"), requestTo: account))
    }

    @Test func aRequestToTheServerTakesItsAnswerWithOrWithoutFrom() {
        #expect(IQTracker.answers(Self.reply(from: nil), requestTo: nil))
        #expect(IQTracker.answers(Self.reply(from: "chat.example.org"), requestTo: nil))
    }
}
