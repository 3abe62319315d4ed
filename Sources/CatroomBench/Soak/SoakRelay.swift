import NIOCore
import NIOPosix
import Synchronization

/// A loopback TCP relay in front of the server for one churning member. `cut()` drops the
/// member's connection without a word, as a lost network would; the listener stays, so the
/// client's own reconnection comes back through it. TLS passes through untouched.
final class SoakRelay: Sendable {
    let port: Int
    private let listener: Channel
    private let relayed: Relayed

    /// The client-side halves of the connections open now.
    private final class Relayed: Sendable {
        let channels = Mutex<[Channel]>([])
    }

    private init(listener: Channel, relayed: Relayed) {
        self.listener = listener
        self.relayed = relayed
        port = listener.localAddress?.port ?? 0
    }

    /// Listens on 127.0.0.1 and relays each connection to the server from `source`.
    static func start(serverPort: Int, source: String, group: EventLoopGroup) async throws -> SoakRelay {
        let sourceAddress = try SocketAddress(ipAddress: source, port: 0)
        let relayed = Relayed()
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // An accepted connection is registered, and read, once its initializer is done:
            // after the other half is connected.
            .childChannelInitializer { inbound in
                ClientBootstrap(group: inbound.eventLoop)
                    .bind(to: sourceAddress)
                    .channelInitializer { outbound in
                        outbound.eventLoop.makeCompletedFuture {
                            try outbound.pipeline.syncOperations.addHandler(Half(partner: inbound))
                        }
                    }
                    .connect(host: "127.0.0.1", port: serverPort)
                    .flatMapThrowing { outbound in
                        try inbound.pipeline.syncOperations.addHandler(Half(partner: outbound))
                        relayed.channels.withLock { $0.append(inbound) }
                        inbound.closeFuture.whenComplete { _ in
                            relayed.channels.withLock { $0.removeAll { $0 === inbound } }
                        }
                    }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return SoakRelay(listener: listener, relayed: relayed)
    }

    /// Closes every relayed connection; the server and the client each see theirs end.
    /// Returns how many were cut.
    @discardableResult
    func cut() -> Int {
        let open = relayed.channels.withLock { $0 }
        for channel in open { channel.close(promise: nil) }
        return open.count
    }

    func stop() async {
        cut()
        try? await listener.close()
    }

    /// One direction: what arrives here goes out on the partner; either end closing closes both.
    private final class Half: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let partner: Channel

        init(partner: Channel) { self.partner = partner }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            partner.writeAndFlush(unwrapInboundIn(data), promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            partner.close(promise: nil)
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            context.close(promise: nil)
        }
    }
}
