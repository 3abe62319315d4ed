import CatroomXML
import NIOCore

/// Framing: bytes in, XML stream events out (`XML.StreamParser` over expat).
///
/// Lives right after TLS in the pipeline. A parse error is passed on as
/// `XML.StreamError` through `errorCaught`; the connection answers with the matching
/// stream error. After `reset()` (a stream restart) the next bytes open a new root.
/// A quiet stream's parser hibernates.
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

    /// A read is done: once the stream has been quiet for `hibernationDelay`, expat's
    /// state goes until the next byte (`XML.StreamParser.hibernate()`), so an idle
    /// connection does not keep it and a busy one does not rebuild it on every read.
    func channelReadComplete(context: ChannelHandlerContext) {
        lastRead = context.eventLoop.now
        if hibernationCheck == nil { scheduleHibernation(context: context, at: lastRead + Self.hibernationDelay) }
        context.fireChannelReadComplete()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        hibernationCheck?.cancel()
        hibernationCheck = nil
    }

    // MARK: - Hibernation

    /// Quiet time after which an idle stream's parser is freed.
    static let hibernationDelay = TimeAmount.seconds(1)
    private var lastRead = NIODeadline.uptimeNanoseconds(0)
    private var hibernationCheck: Scheduled<Void>?

    /// Whether the parser is hibernating (for tests).
    var isHibernating: Bool { parser.isHibernating }

    private func scheduleHibernation(context: ChannelHandlerContext, at deadline: NIODeadline) {
        hibernationCheck = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
            guard let self else { return }
            hibernationCheck = nil
            let due = lastRead + Self.hibernationDelay
            if context.eventLoop.now < due {
                scheduleHibernation(context: context, at: due)
            } else {
                parser.hibernate()
            }
        }
    }
}
