import CatroomProtocol
import CatroomTesting
import NIOCore
import NIOPosix
import Testing

/// The test client itself: a server that misbehaves must fail a test, not hang it.
@Suite struct TestClientTests {
    /// Opens a stream, answers anything with `<proceed/>`, and hangs up before any TLS.
    final class HangUpAfterProceed: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        func channelActive(context: ChannelHandlerContext) {
            let header = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s'>"
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: header)), promise: nil)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let proceed = "<proceed xmlns='\(Namespace.tls)'/>"
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: proceed)), promise: nil)
            context.close(promise: nil)
        }
    }

    @Test func startTLSFailsWhenTheServerHangsUpAfterProceed() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(HangUpAfterProceed()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let client = try await TestClient.connect(port: try #require(server.localAddress?.port))
        _ = try await client.receiveHeader()
        await #expect(throws: (any Error).self) { try await client.startTLS() }
        await client.close()
        try await server.close()
    }
}
