@testable import CatroomServer
import CatroomXML
import NIOCore
import NIOEmbedded
import Testing

/// `XMLStreamHandler` frees a stream's parser once the stream has been quiet for
/// `hibernationDelay`, and not while it keeps reading.
@Suite struct ParserHibernationTests {
    @Test func aQuietStreamHibernatesAndABusyOneDoesNot() throws {
        let loop = EmbeddedEventLoop()
        let handler = XMLStreamHandler(limits: .init())
        let channel = EmbeddedChannel(handler: handler, loop: loop)
        defer { _ = try? channel.finish() }
        let delay = XMLStreamHandler.hibernationDelay

        func read(_ text: String) throws -> [XML.StreamEvent] {
            try channel.writeInbound(channel.allocator.buffer(string: text))
            var events: [XML.StreamEvent] = []
            while let event = try channel.readInbound(as: XML.StreamEvent.self) { events.append(event) }
            return events
        }

        #expect(try read(streamHeader).count == 1)
        loop.advanceTime(by: delay - .milliseconds(1))
        #expect(!handler.isHibernating, "not yet quiet for the whole delay")
        loop.advanceTime(by: .milliseconds(1))
        #expect(handler.isHibernating)

        #expect(try read("<presence/>") == [.element(XML.Element("presence", namespace: "jabber:client"))])
        #expect(!handler.isHibernating)
        for _ in 0..<4 {
            loop.advanceTime(by: .nanoseconds(delay.nanoseconds / 2))
            _ = try read(" ")
            #expect(!handler.isHibernating, "a read every half delay keeps it awake")
        }
        loop.advanceTime(by: delay)
        #expect(handler.isHibernating)

        #expect(try read("<message><body>after</body></message>").count == 1)
        _ = try read("<message><bo")
        loop.advanceTime(by: delay * 3)
        #expect(!handler.isHibernating, "never inside a stanza")
        #expect(try read("dy/></message>").count == 1)
        loop.advanceTime(by: delay)
        #expect(handler.isHibernating)
    }

    private let streamHeader = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
        + "xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>"
}
