import CatroomXML
import NIOCore

/// Framing: bytes in, XML stream events out (`XML.StreamParser` over expat).
///
/// Lives right after TLS in the pipeline. A parse error is passed on as
/// `XML.StreamError` through `errorCaught`; the connection answers with the matching
/// stream error. After `reset()` (a stream restart) the next bytes open a new root.
/// Between reads the parser hibernates when it can.
final class XMLStreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = XML.StreamEvent

    private let parser: XML.StreamParser

    init(limits: XML.StreamParser.Limits) {
        parser = XML.StreamParser(limits: limits)
    }

    /// Bytes received after the last complete event (pipelined data after `<starttls/>`).
    var bytesAfterLastEvent: Int { parser.bytesAfterLastEvent }

    func reset() { parser.reset() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let result = buffer.withUnsafeReadableBytes { bytes in
            Result { () throws(XML.StreamError) in try parser.feed(bytes) }
        }
        switch result {
        case .success(let events):
            for event in events { context.fireChannelRead(wrapInboundOut(event)) }
        case .failure(let error):
            context.fireErrorCaught(error)
        }
    }

    /// A read is done: between stanzas, expat's state goes until the next byte
    /// (`XML.StreamParser.hibernate()`), so an idle connection does not keep it.
    func channelReadComplete(context: ChannelHandlerContext) {
        parser.hibernate()
        context.fireChannelReadComplete()
    }
}
