import NIOCore
import NIOHTTP1
import NIOPosix

/// `--metrics HOST:PORT`: HTTP/1.1 with one resource, `GET /metrics`, the Prometheus text
/// exposition; every other request gets 404. One request per connection, of at most
/// `maxRequestBytes`, within `timeout`: a scraper needs no more, and nobody gets to hold more.
enum MetricsEndpoint {
    static let maxRequestBytes = 8192
    static let timeout = TimeAmount.seconds(10)

    static func bind(
        _ address: ListenAddress, group: EventLoopGroup, exposition: @escaping @Sendable () -> [UInt8]
    ) async throws -> Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 16)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(RequestSizeLimit())
                    try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: true)
                    try pipeline.addHandler(MetricsHandler(exposition: exposition))
                    let deadline = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
                    channel.closeFuture.whenComplete { _ in deadline.cancel() }
                }
            }
            .bind(host: address.host, port: address.port).get()
    }

    /// Closes a connection that sends more than `maxRequestBytes`.
    final class RequestSizeLimit: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        private var received = 0

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received += unwrapInboundIn(data).readableBytes
            guard received <= MetricsEndpoint.maxRequestBytes else { return context.close(promise: nil) }
            context.fireChannelRead(data)
        }
    }

    final class MetricsHandler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        private let exposition: @Sendable () -> [UInt8]
        private var head: HTTPRequestHead?
        private var answered = false

        init(exposition: @escaping @Sendable () -> [UInt8]) { self.exposition = exposition }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let request): head = request
            case .body: break
            case .end:
                guard let head, !answered else { return context.close(promise: nil) }
                answered = true
                let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                if head.method == .GET, path == "/metrics" {
                    // The version of the text format Prometheus negotiates by default.
                    respond(context, head, .ok, "text/plain; version=0.0.4; charset=utf-8", exposition())
                } else {
                    respond(context, head, .notFound, "text/plain; charset=utf-8", Array("not found: try GET /metrics\n".utf8))
                }
            }
        }

        private func respond(
            _ context: ChannelHandlerContext, _ request: HTTPRequestHead, _ status: HTTPResponseStatus, _ type: String, _ body: [UInt8]
        ) {
            let headers: HTTPHeaders = ["content-type": type, "content-length": String(body.count), "connection": "close"]
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}
