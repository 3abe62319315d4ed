import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// Test only: records the bytes of every stream after TLS (`ServerConfiguration.wireTapPath`),
/// inbound and outbound alike, so a test can prove what never reached the server.
final class WireTap: Sendable {
    private let file: NIOLockedValueBox<FileHandle>

    init?(path: String) {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else { return nil }
        file = NIOLockedValueBox(handle)
    }

    func record(_ buffer: ByteBuffer) {
        let bytes = Data(buffer.readableBytesView)
        file.withLockedValue { $0.write(bytes) }
    }

    /// A handler placed right after TLS (or first, before STARTTLS adds TLS in front of it).
    func handler() -> Handler { Handler(tap: self) }

    final class Handler: ChannelDuplexHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        typealias OutboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let tap: WireTap

        init(tap: WireTap) { self.tap = tap }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            tap.record(unwrapInboundIn(data))
            context.fireChannelRead(data)
        }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            tap.record(unwrapOutboundIn(data))
            context.write(data, promise: promise)
        }
    }
}
