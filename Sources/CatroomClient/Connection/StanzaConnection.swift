import CatroomProtocol
import CatroomXML
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// One XMPP stream from the client side: bytes out, parsed stream events in.
///
/// The events are an `AsyncStream` with one consumer (the login, then the
/// client's read loop). Sending is safe from any task.
final class StanzaConnection: Sendable {
    enum Event: Sendable {
        case streamOpened(XML.Element)
        case element(XML.Element)
        case streamClosed
        case failed(String)
    }

    let channel: Channel
    let events: AsyncStream<Event>
    private let decoder: ClientStreamDecoder

    struct ConnectionFailed: Error, CustomStringConvertible {
        let description: String
    }

    /// TCP to `host:port` within `timeout` seconds; cancelling the task abandons the attempt.
    static func connect(host: String, port: Int, from source: String?, timeout: Double, group: EventLoopGroup) async throws -> StanzaConnection {
        let (events, continuation) = AsyncStream.makeStream(of: Event.self)
        let decoder = ClientStreamDecoder(continuation: continuation)
        var bootstrap = ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.milliseconds(Int64(timeout * 1000)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(decoder) }
            }
        if let source { bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: source, port: 0)) }
        let attempt = bootstrap.connect(host: host, port: port)
        // A second completion of a promise is ignored: whichever comes first wins.
        let outcome = attempt.eventLoop.makePromise(of: Channel.self)
        attempt.cascade(to: outcome)
        // Errors are NIO's: `ConnectFailure.connecting` puts them in words.
        let channel = try await withTaskCancellationHandler {
            try await outcome.futureResult.get()
        } onCancel: {
            outcome.fail(CancellationError())
            attempt.whenSuccess { $0.close(promise: nil) }
        }
        return StanzaConnection(channel: channel, events: events, decoder: decoder)
    }

    /// Internal for the `engine` fuzz target, which gives engines a channel without a server.
    init(channel: Channel, events: AsyncStream<Event>, decoder: ClientStreamDecoder) {
        self.channel = channel
        self.events = events
        self.decoder = decoder
    }

    func send(_ element: XML.Element) {
        send(bytes: element.serialized(inheritedNamespace: Namespace.client))
    }

    func send(bytes: [UInt8]) {
        channel.writeAndFlush(channel.allocator.buffer(bytes: bytes), promise: nil)
    }

    /// Starts a new stream: `<stream:stream>` to `domain`, with a fresh parser (RFC 6120 §4.3.2, §5.4.3.3, §6.4.6).
    func openStream(to domain: String) async throws {
        try await channel.eventLoop.submit { [decoder] in decoder.reset() }.get()
        send(bytes: Array("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='\(domain)' version='1.0'>".utf8))
    }

    /// Adds TLS in front of the stream after `<proceed/>` and waits for the handshake;
    /// `verify` sees the server's certificate and may refuse it.
    func startTLS(serverName: String?, verify: @escaping @Sendable (NIOSSLCertificate) throws -> Void) async throws {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        // Verification stays on so that the custom callback runs; it replaces chain
        // validation with the pin check (a self-signed certificate has no chain).
        configuration.certificateVerification = .noHostnameVerification
        let context = try NIOSSLContext(configuration: configuration)
        let handshake = channel.eventLoop.makePromise(of: Void.self)
        let rejection = NIOLockedValueBox<Error?>(nil)
        try await channel.eventLoop.submit { [channel] in
            let handler = try NIOSSLClientHandler(
                context: context, serverHostname: serverName.flatMap { Self.isIPAddress($0) ? nil : $0 }
            ) { certificates, promise in
                do {
                    guard let leaf = certificates.first else { throw ConnectionFailed(description: "no certificate presented") }
                    try verify(leaf)
                    promise.succeed(.certificateVerified)
                } catch {
                    rejection.withLockedValue { $0 = error }
                    promise.succeed(.failed)
                }
            }
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(handler, position: .first)
            try pipeline.addHandler(HandshakeWatcher(promise: handshake), position: .after(handler))
        }.get()
        do {
            try await handshake.futureResult.get()
        } catch {
            throw rejection.withLockedValue { $0 } ?? error
        }
    }

    func close() {
        channel.close(promise: nil)
    }

    /// How long the server has sent nothing (for the keepalive).
    var silence: Duration { ContinuousClock.now - decoder.lastReceived.withLockedValue { $0 } }

    private static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}

/// Feeds the received bytes to the stream parser (RFC 6120 framing) and yields events.
final class ClientStreamDecoder: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    private var parser = XML.StreamParser()
    /// When bytes last arrived; read from other tasks.
    let lastReceived = NIOLockedValueBox(ContinuousClock.now)
    private let continuation: AsyncStream<StanzaConnection.Event>.Continuation

    init(continuation: AsyncStream<StanzaConnection.Event>.Continuation) {
        self.continuation = continuation
    }

    /// A new document for a restarted stream; on the channel's event loop only.
    func reset() { parser = XML.StreamParser() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        lastReceived.withLockedValue { $0 = .now }
        let result = buffer.withUnsafeReadableBytes { bytes in
            Result { () throws(XML.StreamError) in try parser.feed(bytes) }
        }
        switch result {
        case .success(let events):
            for event in events {
                switch event {
                case .streamOpened(let root): continuation.yield(.streamOpened(root))
                case .element(let element): continuation.yield(.element(element))
                case .streamClosed: continuation.yield(.streamClosed)
                }
            }
        case .failure(let error):
            continuation.yield(.failed("the server sent malformed XML (\(error))"))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        continuation.yield(.failed("the connection failed: \(ConnectFailure.describe(error))"))
        context.close(promise: nil)
    }
}

/// Completes a promise when the TLS handshake is done, or fails it with the error.
private final class HandshakeWatcher: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let promise: EventLoopPromise<Void>

    init(promise: EventLoopPromise<Void>) { self.promise = promise }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event { promise.succeed(()) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        promise.fail(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(StanzaConnection.ConnectionFailed(description: "connection closed during the TLS handshake"))
        context.fireChannelInactive()
    }
}
