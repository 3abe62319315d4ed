import Glibc
import Logging
import NIOCore

/// Backs a listener off when `accept` fails for want of descriptors or memory (EMFILE,
/// ENFILE, ENOBUFS, ENOMEM). The waiting connection stays in the backlog and the listener
/// stays readable, so accepting again at once is a busy loop. Instead the listener stops
/// reading for 100 ms, doubling while accepts keep failing, up to 1 s; connections already
/// open are served meanwhile, and they free the descriptors that let accepting resume.
///
/// Not NIO's `AcceptBackoffHandler`: it only withholds the next `read()`, which leaves the
/// listener registered with epoll while a read is pending, and so still spinning. Turning
/// `autoRead` off unregisters it.
final class AcceptBackoff: ChannelInboundHandler {
    typealias InboundIn = Channel
    typealias InboundOut = Channel

    static let shortest = TimeAmount.milliseconds(100)
    static let longest = TimeAmount.seconds(1)
    static let shortages: Set<CInt> = [EMFILE, ENFILE, ENOBUFS, ENOMEM]

    private let logger: Logger
    private var delay = AcceptBackoff.shortest
    private var resumption: Scheduled<Void>?

    init(logger: Logger) { self.logger = logger }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        delay = Self.shortest
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let code = (error as? IOError)?.errnoCode, Self.shortages.contains(code),
              let options = context.channel.syncOptions
        else { return context.fireErrorCaught(error) }
        guard resumption == nil else { return }
        try? options.setOption(ChannelOptions.autoRead, value: false)
        logger.warning("accept failed, accepting again in \(delay.nanoseconds / 1_000_000) ms", metadata: ["errno": "\(code)"])
        resumption = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [weak self] in
            self?.resumption = nil
            try? options.setOption(ChannelOptions.autoRead, value: true)
        }
        delay = min(delay * 2, Self.longest)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        resumption?.cancel()
    }
}
