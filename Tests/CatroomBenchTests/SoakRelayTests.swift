@testable import CatroomBench
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// The churn relay: bytes pass both ways unchanged, and a cut closes the client's connection
/// while the relay keeps listening.
@Suite struct SoakRelayTests {
    /// Answers every read with the same bytes.
    final class Echo: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.writeAndFlush(data, promise: nil) }
    }

    /// Collects what arrives.
    final class Collect: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received = Mutex("")
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let text = String(buffer: unwrapInboundIn(data))
            received.withLock { $0 += text }
        }
    }

    @Test func relaysBothWaysAndCutsOnDemand() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let echo = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Echo()) } }
            .bind(host: "127.0.0.1", port: 0).get()
        let relay = try await SoakRelay.start(serverPort: echo.localAddress?.port ?? 0, source: "127.0.0.9", group: group)
        for _ in 0..<2 {
            let collect = Collect()
            let client = try await ClientBootstrap(group: group)
                .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collect) } }
                .connect(host: "127.0.0.1", port: relay.port).get()
            try await client.writeAndFlush(ByteBuffer(string: "hello through the relay"))
            for _ in 0..<500 where collect.received.withLock({ $0 }) != "hello through the relay" {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(collect.received.withLock { $0 } == "hello through the relay")
            #expect(relay.cut() == 1)
            try await client.closeFuture.get()
        }
        await relay.stop()
        try await echo.close()
        try await group.shutdownGracefully()
    }
}
