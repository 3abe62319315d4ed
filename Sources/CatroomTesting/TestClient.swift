import CatroomProtocol
import CatroomXML
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// A raw XMPP client for tests: sends any bytes, receives parsed stream events.
///
/// Deliberately low level, so tests can read like transcripts ("alice sends /
/// alice receives") and abuse tests can send what no real client would.
public final class TestClient: @unchecked Sendable {
    public let channel: Channel
    private let mailbox: Mailbox
    private let parser: ParserBox
    /// The id of the last stream header received (RFC 6120 §4.7.3).
    public internal(set) var streamID: String?

    /// What arrives: a parsed event, a parse failure, or the connection closing.
    public enum Event: Sendable {
        case stream(XML.StreamEvent)
        case malformed(XML.StreamError)
        case closed
    }

    public struct Timeout: Error, CustomStringConvertible {
        public let waitingFor: String
        public var description: String { "timed out waiting for \(waitingFor)" }
    }

    public struct Unexpected: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// Connects to `host:port`, optionally from a given local address (127.x for per-address limits).
    public static func connect(
        host: String = "127.0.0.1", port: Int, from localAddress: String? = nil, directTLS: Bool = false,
        receiveBufferSize: Int? = nil, group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> TestClient {
        let mailbox = Mailbox()
        let parser = ParserBox()
        var bootstrap = ClientBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if directTLS { try channel.pipeline.syncOperations.addHandler(try TestClient.tlsHandler()) }
                    try channel.pipeline.syncOperations.addHandler(Collector(parser: parser, mailbox: mailbox))
                }
            }
        if let localAddress {
            bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: localAddress, port: 0))
        }
        if let receiveBufferSize {
            // A fixed small buffer turns off the kernel's autotuning: a slow reader stays slow.
            bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBufferSize))
        }
        let channel = try await bootstrap.connect(host: host, port: port).get()
        return TestClient(channel: channel, mailbox: mailbox, parser: parser)
    }

    private init(channel: Channel, mailbox: Mailbox, parser: ParserBox) {
        self.channel = channel
        self.mailbox = mailbox
        self.parser = parser
    }

    static func tlsHandler() throws -> NIOSSLClientHandler {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none  // tests pin nothing; the client issue pins
        return try NIOSSLClientHandler(context: NIOSSLContext(configuration: configuration), serverHostname: nil)
    }

    // MARK: - Sending

    public func send(_ text: String) async throws {
        try await send(bytes: Array(text.utf8))
    }

    public func send(bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes))
    }

    public func send(_ element: XML.Element) async throws {
        try await send(bytes: element.serialized(inheritedNamespace: Namespace.client))
    }

    public func close() async {
        try? await channel.close()
    }

    // MARK: - Receiving

    /// The next event, within `timeout`.
    public func next(timeout: Duration = .seconds(5), _ what: String = "an event") async throws -> Event {
        guard let event = await mailbox.pop(timeout: timeout) else { throw Timeout(waitingFor: what) }
        return event
    }

    /// The next complete top-level element.
    public func receive(timeout: Duration = .seconds(5)) async throws -> XML.Element {
        switch try await next(timeout: timeout, "an element") {
        case .stream(.element(let element)): return element
        case let other: throw Unexpected("expected an element, got \(other)")
        }
    }

    /// Elements until one satisfies `match` (others are returned too, in order).
    public func receive(until match: (XML.Element) -> Bool, timeout: Duration = .seconds(5)) async throws -> [XML.Element] {
        var received: [XML.Element] = []
        while true {
            let element = try await receive(timeout: timeout)
            received.append(element)
            if match(element) { return received }
        }
    }

    /// The stream header the server sends.
    public func receiveHeader(timeout: Duration = .seconds(5)) async throws -> XML.Element {
        switch try await next(timeout: timeout, "a stream header") {
        case .stream(.streamOpened(let root)): return root
        case let other: throw Unexpected("expected a stream header, got \(other)")
        }
    }

    /// Waits for the server to close the stream: returns the stream error element, if one came first.
    public func receiveClose(timeout: Duration = .seconds(5)) async throws -> XML.Element? {
        var error: XML.Element?
        while true {
            switch try await next(timeout: timeout, "the stream to close") {
            case .stream(.element(let element)) where element.name == "error" && element.namespace == Namespace.stream:
                error = element
            case .stream(.streamClosed), .closed:
                return error
            case .stream, .malformed:
                continue
            }
        }
    }

    /// Restarts the parser for a new stream (after STARTTLS or SASL), as the client side must.
    public func restartParser() {
        channel.eventLoop.execute { [parser] in parser.parser.reset() }
    }

    /// Sends `<starttls/>`, expects `<proceed/>`, and runs the TLS handshake.
    public func startTLS() async throws {
        try await send("<starttls xmlns='\(Namespace.tls)'/>")
        let proceed = try await receive()
        guard proceed.name == "proceed" else { throw Unexpected("expected <proceed/>, got \(proceed)") }
        let handshake = channel.eventLoop.makePromise(of: Void.self)
        do {
            try await channel.eventLoop.submit { [channel, parser] in
                parser.parser.reset()
                let sync = channel.pipeline.syncOperations
                try sync.addHandler(TestClient.tlsHandler(), position: .first)
                try sync.addHandler(HandshakeWaiter(promise: handshake), position: .after(sync.handler(type: NIOSSLClientHandler.self)))
            }.get()
        } catch {
            // Already closed (a server that hangs up after <proceed/>): NIO traps on an uncompleted promise.
            handshake.fail(error)
            throw error
        }
        try await handshake.futureResult.get()
    }
}

/// The parser lives on the channel's event loop; tests only reset it there.
final class ParserBox: @unchecked Sendable {
    let parser = XML.StreamParser(limits: .init(maxElementBytes: 4 * 1024 * 1024))
}

/// Events waiting for the test, and the test waiting for an event.
final class Mailbox: @unchecked Sendable {
    private let lock = NIOLock()
    private var events: [TestClient.Event] = []
    private var waiter: (id: Int, continuation: CheckedContinuation<TestClient.Event?, Never>)?
    private var waits = 0

    func push(_ event: TestClient.Event) {
        lock.lock()
        if let waiter {
            self.waiter = nil
            lock.unlock()
            waiter.continuation.resume(returning: event)
        } else {
            events.append(event)
            lock.unlock()
        }
    }

    func pop(timeout: Duration) async -> TestClient.Event? {
        await withCheckedContinuation { continuation in
            lock.lock()
            if !events.isEmpty {
                let event = events.removeFirst()
                lock.unlock()
                return continuation.resume(returning: event)
            }
            waits += 1
            let id = waits
            waiter = (id, continuation)
            lock.unlock()
            Task {
                try? await Task.sleep(for: timeout)
                self.lock.lock()
                guard let waiter = self.waiter, waiter.id == id else { return self.lock.unlock() }
                self.waiter = nil
                self.lock.unlock()
                waiter.continuation.resume(returning: nil)
            }
        }
    }
}

/// Feeds received bytes to the parser and hands events to the test.
final class Collector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let parser: ParserBox
    let mailbox: Mailbox

    init(parser: ParserBox, mailbox: Mailbox) {
        self.parser = parser
        self.mailbox = mailbox
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let result = buffer.withUnsafeReadableBytes { bytes in
            Result { () throws(XML.StreamError) in try parser.parser.feed(bytes) }
        }
        switch result {
        case .success(let events): for event in events { mailbox.push(.stream(event)) }
        case .failure(let error): mailbox.push(.malformed(error))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        mailbox.push(.closed)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

/// Completes a promise when the TLS handshake finishes.
final class HandshakeWaiter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let promise: EventLoopPromise<Void>

    init(promise: EventLoopPromise<Void>) { self.promise = promise }

    /// Added after the server already hung up: no `channelInactive` will come.
    func handlerAdded(context: ChannelHandlerContext) {
        if !context.channel.isActive { promise.fail(TestClient.Unexpected("the connection closed before the TLS handshake")) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event as? TLSUserEvent ?? .shutdownCompleted {
            promise.succeed(())
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        promise.fail(error)
        context.fireErrorCaught(error)
    }

    /// A connection that closes mid-handshake must fail `startTLS()`, not leave it waiting.
    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(TestClient.Unexpected("the connection closed during the TLS handshake"))
        context.fireChannelInactive()
    }
}
