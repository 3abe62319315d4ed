import CatroomCrypto
import CatroomProtocol
import CatroomXML
import Logging
import NIOCore
import NIOSSL

/// One client-to-server connection (RFC 6120): stream negotiation, then stanzas to the router.
///
/// Bound to its channel's event loop. Everything shared goes through the `Hub`;
/// stanzas for other connections go out through their `ConnectionHandle`s.
final class ClientConnection: ChannelInboundHandler {
    typealias InboundIn = XML.StreamEvent

    enum Phase {
        /// Waiting for `<stream:stream>` (first, or after a restart).
        case awaitingHeader
        /// Before authentication: STARTTLS, SASL, registration.
        case negotiating
        /// Authenticated as this account, not yet bound.
        case authenticated(String)
        /// Bound: stanzas are routed.
        case established(Session)
        /// A stream error or close was sent; everything else is ignored.
        case closing
    }

    let hub: Hub
    let identity: TLSIdentity
    let decoder: XMLStreamHandler
    let logger: Logger
    let handle: ConnectionHandle
    var phase = Phase.awaitingHeader
    var streamID = ""
    var headerSent = false
    var isSecure: Bool
    /// The session, once bound; kept after the stream starts closing, so the
    /// close can unbind it and leave its rooms.
    var session: Session?
    /// The account SASL authenticated this connection as.
    var authenticatedAs: String?
    /// The SCRAM exchange in progress, if any.
    var scram: SCRAMServer?
    /// The registration challenge issued on this stream (CR-0003 §5.1), and when.
    var challenge: (nonce: [UInt8], issued: NIODeadline)?
    var failedAttempts = 0
    var rate: TokenBucket
    /// Events read but not yet handled because the stanza rate was exceeded.
    private var backlog: [XML.StreamEvent] = []
    private var drainScheduled = false
    private var preAuthenticationTimer: Scheduled<Void>?
    private var keepalive: RepeatedTask?
    weak var context: ChannelHandlerContext?

    init(hub: Hub, identity: TLSIdentity, decoder: XMLStreamHandler, handle: ConnectionHandle, secure: Bool, logger: Logger) {
        self.hub = hub
        self.identity = identity
        self.decoder = decoder
        self.handle = handle
        self.isSecure = secure
        self.logger = logger
        let limits = hub.configuration.limits
        rate = TokenBucket(rate: limits.stanzasPerSecond, burst: limits.stanzaBurst)
    }

    var configuration: ServerConfiguration { hub.configuration }

    // MARK: - Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let seconds = configuration.limits.preAuthenticationSeconds
        preAuthenticationTimer = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(seconds)) { [weak self] in
            self?.hub.metrics?.hit(.preAuthenticationSeconds)
            self?.streamError(StreamError(.connectionTimeout, text: "not authenticated within \(seconds) s"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        preAuthenticationTimer?.cancel()
        keepalive?.cancel()
        let deliveries = hub.connectionClosed(handle, session: session?.jid)
        session = nil
        deliver(deliveries)
        phase = .closing
        logger.debug("connection closed", metadata: ["connection": "\(handle.id)"])
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Closing: input is only drained (see `closeStream`), and never paused.
        if case .closing = phase { return }
        let event = unwrapInboundIn(data)
        guard backlog.isEmpty, !isElement(event) || rate.take() else {
            return hold(event)
        }
        handle(event)
    }

    private func handle(_ event: XML.StreamEvent) {
        switch event {
        case .streamOpened(let root):
            streamOpened(root)
        case .element(let element):
            hub.metrics?.stanzasIn.increment()
            received(element)
        case .streamClosed:
            // RFC 6120 §4.4: answer the closing tag with ours, then close.
            closeStream(with: nil)
        }
    }

    private func isElement(_ event: XML.StreamEvent) -> Bool {
        if case .element = event { true } else { false }
    }

    private var isClosing: Bool {
        if case .closing = phase { true } else { false }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let error = error as? XML.StreamError {
            if case .stanzaTooBig = error { hub.metrics?.hit(.maxStanzaBytes) }
            streamError(StreamError(error))
        } else {
            logger.debug("connection error", metadata: ["connection": "\(handle.id)", "error": "\(type(of: error))"])
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event as? ConnectionEvent {
        case .slowReader:
            // Nothing more can reach a peer that does not read: drop it now.
            if let metrics = hub.metrics, !isClosing {
                metrics.hit(.maxOutboundBytes)
                metrics.refused(.slowReader)
            }
            phase = .closing
            context.close(promise: nil)
        case .replaced: streamError(StreamError(.conflict, text: "the identity was registered on another stream"))
        case .shutdown: streamError(StreamError(.systemShutdown))
        case nil: context.fireUserInboundEventTriggered(event)
        }
    }

    // MARK: - Sending

    /// Writes on this connection directly (stream-level elements, replies).
    func send(_ element: XML.Element) {
        hub.metrics?.stanzasOut.increment()
        handle.send(element)
    }

    func send(raw bytes: [UInt8]) {
        handle.send(bytes: bytes)
    }

    /// Sends the error reply to `stanza`, unless it is one that must not be answered.
    func reply(to stanza: Stanza, _ error: StanzaError) {
        if let reply = stanza.errorReply(error) { send(reply) }
    }

    /// Sends each stanza; those for connections on other event loops go over in one
    /// hop per loop, serialised here.
    func deliver(_ deliveries: [Delivery]) {
        if let metrics = hub.metrics, !deliveries.isEmpty {
            metrics.deliveries.increment(by: deliveries.count)
            metrics.stanzasOut.increment(by: deliveries.count)
        }
        if let tamper = configuration.tamper {
            for delivery in deliveries {
                for element in tamper(delivery.element, delivery.to.jid) { delivery.to.connection.send(element) }
            }
            return
        }
        var elsewhere: [ObjectIdentifier: (EventLoop, [(ConnectionHandle, [UInt8])])] = [:]
        for delivery in deliveries {
            let connection = delivery.to.connection
            let loop = connection.channel.eventLoop
            if loop.inEventLoop {
                connection.enqueue(delivery.bytes)
            } else {
                elsewhere[ObjectIdentifier(loop), default: (loop, [])].1.append((connection, delivery.bytes))
            }
        }
        for (loop, batch) in elsewhere.values {
            loop.execute {
                for (connection, bytes) in batch { connection.enqueue(bytes) }
            }
        }
    }

    /// RFC 6120 §4.9: send the error (after a header if none was sent yet), the closing tag, and close.
    func streamError(_ error: StreamError) {
        if case .closing = phase { return }
        if error.condition != .systemShutdown { hub.metrics?.refused(.streamError) }
        logger.debug("stream error", metadata: ["connection": "\(handle.id)", "condition": "\(error.condition.rawValue)"])
        if !headerSent { sendHeader() }
        closeStream(with: error)
    }

    /// Sends the error if any and the closing tag, then closes the connection in order.
    func closeStream(with error: StreamError?) {
        guard let context else { return }
        if case .closing = phase { return }
        phase = .closing
        preAuthenticationTimer?.cancel()
        // Events held by the rate limit are moot now: read on, so the peer's close is seen.
        if !backlog.isEmpty {
            backlog.removeAll()
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenSuccess { }
            context.read()
        }
        context.closeStream(sending: Self.goodbye(error), timeout: Self.closeTimeout)
    }

    /// The error if any, then the closing tag.
    static func goodbye(_ error: StreamError?) -> [UInt8] {
        (error.map { $0.element.serialized(inheritedNamespace: Namespace.client) } ?? []) + Array("</stream:stream>".utf8)
    }

    /// How long a closing stream may take: for the goodbye to go out (a peer that does not read
    /// never lets it) and for the peer to close its side.
    static let closeTimeout = TimeAmount.seconds(2)

    // MARK: - Rate limit (SECURITY-CASES SR-03)

    /// Past the stanza rate, events wait in order and reading stops until they are
    /// handled: the peer is slowed by TCP backpressure, and what waits is at most one read.
    private func hold(_ event: XML.StreamEvent) {
        backlog.append(event)
        guard let context, !drainScheduled else { return }
        hub.metrics?.hit(.stanzasPerSecond)
        drainScheduled = true
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenSuccess { }
        context.eventLoop.assumeIsolated().scheduleTask(in: rate.wait()) { [weak self] in self?.drain() }
    }

    private func drain() {
        drainScheduled = false
        while let event = backlog.first {
            if isElement(event) {
                guard rate.take() else { break }
            }
            backlog.removeFirst()
            handle(event)
        }
        guard let context else { return }
        if backlog.isEmpty {
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenSuccess { }
            context.read()
        } else {
            drainScheduled = true
            context.eventLoop.assumeIsolated().scheduleTask(in: rate.wait()) { [weak self] in self?.drain() }
        }
    }

    // MARK: - Timers

    /// Authentication done: no deadline any more; whitespace keepalives instead (RFC 6120 §4.6.1).
    func startKeepalive() {
        preAuthenticationTimer?.cancel()
        preAuthenticationTimer = nil
        guard let context, keepalive == nil else { return }
        let interval = TimeAmount.seconds(configuration.limits.keepaliveSeconds)
        let handle = handle
        keepalive = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            handle.send(bytes: [0x20])
        }
    }
}
