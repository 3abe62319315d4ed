import CatroomCrypto
import CatroomProtocol
import NIOCore

/// A connection past a connection limit: it gets a stream header, the stream error and the
/// closing tag at once (RFC 6120 §4.9.1.1), then an orderly close. Nothing it sends is parsed.
final class StreamRefusal: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let goodbye: [UInt8]

    init(_ error: StreamError, domain: String) {
        goodbye = ClientConnection.header(from: domain, id: randomBytes(count: 16).base64) + ClientConnection.goodbye(error)
    }

    func channelActive(context: ChannelHandlerContext) {
        context.closeStream(sending: goodbye, timeout: ClientConnection.closeTimeout)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}
