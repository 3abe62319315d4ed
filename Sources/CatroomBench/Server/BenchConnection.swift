import CatroomProtocol
import CatroomXML
import NIOCore
import NIOSSL
import NIOTLS

/// One connection of the load generator: feeds received bytes to the shared stream
/// parser, runs `StreamNegotiation` until the resource is bound, then joins a room
/// and sends and counts groupchat messages. Once bound, `StanzaScanner` recognises the
/// benchmark's own messages by their start tag and hands the parser everything else.
///
/// Bound to its channel's event loop; the benchmark reaches it through a
/// `NIOLoopBoundBox` and `EventLoop.submit`. The hot path (a reflection arrives, the
/// next message goes out) allocates one buffer per message and flushes once per read.
final class BenchConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The connection's number in its scenario: the sender field of its message ids.
    let index: Int
    private let parser = XML.StreamParser(limits: .init(maxElementBytes: 1024 * 1024))
    /// Once bound: splits the stream and counts benchmark messages without parsing them.
    private var scanner: StanzaScanner?
    private var negotiation: StreamNegotiation
    private let tls: NIOSSLContext?
    private let progress: RunProgress
    private var login: EventLoopPromise<String>?
    private var context: ChannelHandlerContext?
    /// Initial presence after binding (RFC 6121 §4.2), as an online client sends it.
    private let sendsPresence: Bool
    private var closing = false

    // MARK: Room state

    private var occupantJID: String?
    private var roomJID: String?
    private var join: EventLoopPromise<Void>?

    // MARK: Traffic state

    private var traffic: TrafficPlan?
    private var stats = TrafficStats()
    private var inFlight = 0
    private var nextSequence = 0
    private var expected: Int?
    private var needsFlush = false
    private var pacer: Scheduled<Void>?
    private let eventLoop: any EventLoop

    init(index: Int, plan: StreamNegotiation.Plan, tls: NIOSSLContext?, progress: RunProgress, sendsPresence: Bool, login: EventLoopPromise<String>) {
        self.index = index
        negotiation = StreamNegotiation(plan: plan)
        self.tls = tls
        self.progress = progress
        self.sendsPresence = sendsPresence
        self.login = login
        eventLoop = login.futureResult.eventLoop
    }

    // MARK: - Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        perform(negotiation.start())
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        // One clock reading per read: every stanza in it arrived at the same time.
        let now = monotonicNanoseconds()
        if var scanner {
            self.scanner = nil  // so the copy below owns its buffer alone
            let leftover = buffer.withUnsafeReadableBytes { bytes in
                scanner.feed(bytes) { item in
                    switch item {
                    case .groupchat(let id): delivered(id, now: now)
                    case .element(let bytes): parse(bytes, now: now)
                    }
                }
            }
            if let leftover {
                leftover.withUnsafeBytes { parse($0, now: now) }
            } else {
                self.scanner = scanner
            }
            return
        }
        buffer.withUnsafeReadableBytes { parse($0, now: now) }
        // Bound, with no element half-read: from here the scanner splits the stream.
        if negotiation.phase == .established, !closing, parser.bytesAfterLastEvent == 0 {
            scanner = StanzaScanner()
        }
    }

    /// Feeds bytes to the stream parser and handles the events they complete.
    private func parse(_ bytes: UnsafeRawBufferPointer, now: UInt64) {
        let events: [XML.StreamEvent]
        do {
            events = try parser.feed(bytes)
        } catch {
            return failed("unparsable XML from the server: \(error)")
        }
        for event in events {
            if negotiation.phase == .established {
                established(event, now: now)
            } else {
                perform(negotiation.receive(event))
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if needsFlush {
            needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted? = event as? TLSUserEvent {
            perform(negotiation.tlsEstablished())
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        pacer?.cancel()
        if !closing { failed("the server closed the connection") }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        failed("connection error: \(Self.describe(error))")
    }

    // MARK: - Negotiation

    private func perform(_ actions: [StreamNegotiation.Action]) {
        guard let context else { return }
        for action in actions {
            switch action {
            case .send(let bytes):
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
            case .startTLS:
                guard let tls, let handler = try? NIOSSLClientHandler(context: tls, serverHostname: nil) else {
                    return failed("no TLS context for STARTTLS")
                }
                parser.reset()
                do {
                    try context.pipeline.syncOperations.addHandler(handler, position: .first)
                } catch {
                    return failed("could not start TLS: \(error)")
                }
            case .restartParser:
                parser.reset()
            case .established(let jid):
                if sendsPresence {
                    context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: "<presence/>")), promise: nil)
                }
                login?.succeed(jid)
                login = nil
            case .failed(let reason):
                return failed(reason)
            }
        }
    }

    /// Records the failure once, fails whatever waits, and closes the connection.
    private func failed(_ reason: String) {
        guard !closing else { return }
        closing = true
        pacer?.cancel()
        progress.record(reason)
        progress.connectionFailed()
        let error = ServerBenchmarkError.connectionFailed(reason)
        login?.fail(error)
        login = nil
        join?.fail(error)
        join = nil
        context?.close(promise: nil)
    }

    /// Closes the connection on purpose (the end of a scenario): after `</stream:stream>`
    /// (RFC 6120 §4.4) when `politely`, else by closing the socket as a crashed client would.
    func close(politely: Bool) -> EventLoopFuture<Void> {
        guard let context, !closing else { return eventLoop.makeSucceededVoidFuture() }
        closing = true
        pacer?.cancel()
        let promise = context.eventLoop.makePromise(of: Void.self)
        if politely {
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: "</stream:stream>")), promise: nil)
        }
        context.close(promise: promise)
        return promise.futureResult
    }

    // MARK: - Rooms (XEP-0045 §7.2)

    /// Joins `room` as `nick`; succeeds on the self-presence, after accepting the default
    /// configuration if the room is new and the server waits for it (XEP-0045 §10.1.2).
    func join(room: String, nick: String, deadline: NIODeadline) -> EventLoopFuture<Void> {
        guard let context, !closing else { return eventLoop.makeFailedFuture(ServerBenchmarkError.connectionFailed("not connected")) }
        let promise = context.eventLoop.makePromise(of: Void.self)
        join = promise
        roomJID = room
        occupantJID = "\(room)/\(nick)"
        let presence = "<presence to='\(room)/\(nick)'><x xmlns='\(Namespace.muc)'><history maxstanzas='0'/></x></presence>"
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: presence)), promise: nil)
        let timeout = context.eventLoop.scheduleTask(deadline: deadline) {
            promise.fail(ServerBenchmarkError.connectionFailed("timed out joining the room"))
        }
        promise.futureResult.whenComplete { _ in timeout.cancel() }
        return promise.futureResult
    }

    private func presence(_ element: XML.Element) {
        guard let join, let from = element.attribute("from"), from == occupantJID else { return }
        if element.attribute("type") == "error" {
            self.join = nil
            progress.record("join refused: \(StreamNegotiation.stanzaError(element) ?? "error")")
            return join.fail(ServerBenchmarkError.connectionFailed("join refused"))
        }
        guard element.attribute("type") == nil else { return }
        let statuses = element.firstChild(name: "x", namespace: Namespace.mucUser)?
            .children(name: "status", namespace: Namespace.mucUser).compactMap { $0.attribute("code") } ?? []
        if statuses.contains("201"), let roomJID, let context {
            // A new room: accept the default configuration, so servers that lock new rooms
            // (Prosody) let the others in. catroom answers with an error, which is fine.
            let iq = "<iq type='set' to='\(roomJID)' id='cfg1'><query xmlns='\(Self.mucOwner)'><x xmlns='\(Namespace.dataForms)' type='submit'/></query></iq>"
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: iq)), promise: nil)
            return
        }
        self.join = nil
        join.succeed(())
    }

    // MARK: - Stanzas on an established stream

    private func established(_ event: XML.StreamEvent, now: UInt64) {
        guard case .element(let element) = event else {
            return failed(event == .streamClosed ? "the server closed the stream" : "unexpected stream header")
        }
        switch element.name {
        case "message":
            message(element, now: now)
        case "presence":
            presence(element)
        case "iq":
            iq(element)
        case "error" where element.namespace == Namespace.stream:
            failed("stream error \(StreamNegotiation.condition(of: element, namespace: Namespace.streamErrors))")
        default:
            break
        }
    }

    private func message(_ element: XML.Element, now: UInt64) {
        let type = element.attribute("type")
        guard type == "groupchat" else {
            if type == "error" { messageError(element) }
            return
        }
        guard let id = element.attribute("id"), let messageID = MessageID(id) else {
            // The subject at the end of a join, or anything else the server says to the room.
            return
        }
        delivered(messageID, now: now)
    }

    /// A benchmark message arrived (found by the scanner or the parser).
    private func delivered(_ messageID: MessageID, now: UInt64) {
        stats.delivered += 1
        stats.lastDelivery = now
        if now >= messageID.sentAt {
            stats.latencies.append(now - messageID.sentAt)
        }
        if messageID.sender == index, case .closedLoop? = traffic?.pacing {
            inFlight -= 1
            sendClosedLoop()
        }
        if let expected, stats.delivered == expected { progress.connectionFinished() }
    }

    private func messageError(_ element: XML.Element) {
        progress.record("message error: \(StreamNegotiation.stanzaError(element) ?? "undefined-condition")")
        // The refused message will not come back: free its place in the window.
        if let id = element.attribute("id"), let messageID = MessageID(id), messageID.sender == index, case .closedLoop? = traffic?.pacing {
            inFlight -= 1
            sendClosedLoop()
        }
    }

    private func iq(_ element: XML.Element) {
        let type = element.attribute("type")
        if element.attribute("id") == "cfg1", type == "result" || type == "error", let join {
            self.join = nil
            join.succeed(())
            return
        }
        guard type == "get" || type == "set", let context else { return }
        // Every IQ gets an answer (RFC 6120 §8.2.3): pings a result, anything else service-unavailable.
        let id = element.attribute("id").map(Self.escaped) ?? ""
        let to = element.attribute("from").map { " to='\(Self.escaped($0))'" } ?? ""
        let reply = element.firstChild(name: "ping", namespace: Namespace.ping) != nil
            ? "<iq type='result' id='\(id)'\(to)/>"
            : "<iq type='error' id='\(id)'\(to)><error type='cancel'><service-unavailable xmlns='\(Namespace.stanzaErrors)'/></error></iq>"
        context.write(wrapOutboundOut(context.channel.allocator.buffer(string: reply)), promise: nil)
        needsFlush = true
    }

    // MARK: - Traffic

    /// Starts sending as `plan` says; `expected` deliveries finish the connection's part, if known yet.
    ///
    /// Other occupants may have started first, so messages may already have been counted:
    /// the counts are not reset here.
    func start(_ plan: TrafficPlan) {
        traffic = plan
        stats.latencies.reserveCapacity(plan.expectedDeliveries ?? 0)
        nextSequence = 0
        inFlight = 0
        if let expected = plan.expectedDeliveries { expect(expected) }
        switch plan.pacing {
        case .closedLoop:
            sendClosedLoop()
            flushIfNeeded()
        case .openLoop(let schedule):
            stats.intended = schedule.intendedCount
            sendDue()
        }
    }

    /// Closed loop: keep `window` own messages in flight until all are sent.
    private func sendClosedLoop() {
        guard let traffic, case .closedLoop(let messages, let window) = traffic.pacing, let context, !closing else { return }
        guard inFlight < window, nextSequence < messages else { return }
        let count = min(window - inFlight, messages - nextSequence)
        var buffer = context.channel.allocator.buffer(capacity: count * traffic.template.approximateSize)
        let now = monotonicNanoseconds()
        if stats.firstSend == 0 { stats.firstSend = now }
        for _ in 0..<count {
            traffic.template.write(sender: index, sequence: nextSequence, sentAt: now, into: &buffer)
            nextSequence += 1
        }
        inFlight += count
        stats.sent += count
        context.write(wrapOutboundOut(buffer), promise: nil)
        needsFlush = true
    }

    /// Open loop: send every message whose time has come, skip those too late to count as
    /// paced, and sleep until the next one is due.
    private func sendDue() {
        guard let traffic, case .openLoop(let schedule) = traffic.pacing, let context, !closing else { return }
        let now = monotonicNanoseconds()
        var buffer = context.channel.allocator.buffer(capacity: 0)
        while nextSequence < schedule.intendedCount {
            let due = schedule.due(nextSequence)
            if due > now { break }
            let lag = now - due
            // A message later than the limit is skipped: it shows as intended but not sent.
            if lag <= OpenLoopSchedule.lateLimitNanoseconds {
                if buffer.capacity == 0 { buffer.reserveCapacity(traffic.template.approximateSize) }
                traffic.template.write(sender: index, sequence: nextSequence, sentAt: now, into: &buffer)
                if stats.firstSend == 0 { stats.firstSend = now }
                stats.sent += 1
                stats.maxSendLag = max(stats.maxSendLag, lag)
                stats.sendLagTotal += lag
            }
            nextSequence += 1
        }
        if buffer.readableBytes > 0 { context.writeAndFlush(wrapOutboundOut(buffer), promise: nil) }
        guard nextSequence < schedule.intendedCount else { return }
        pacer = context.eventLoop.assumeIsolated().scheduleTask(deadline: .uptimeNanoseconds(schedule.due(nextSequence))) { [weak self] in
            self?.sendDue()
        }
    }

    private func flushIfNeeded() {
        if needsFlush, let context {
            needsFlush = false
            context.flush()
        }
    }

    /// Open loop over: no more sends; returns how many went out.
    func stopSending() -> Int {
        pacer?.cancel()
        pacer = nil
        if let traffic, case .openLoop(let schedule) = traffic.pacing {
            // Whatever was still due counts as not sent.
            nextSequence = schedule.intendedCount
        }
        return stats.sent
    }

    /// From now on, `count` deliveries finish this connection's part.
    func expect(_ count: Int) {
        expected = count
        if stats.delivered >= count { progress.connectionFinished() }
    }

    /// What the connection saw; the counts start again from zero.
    func takeStats() -> TrafficStats {
        defer { stats = TrafficStats() }
        return stats
    }

    // MARK: - Helpers

    /// XEP-0045 §10: the owner's namespace, used only to accept a new room's default configuration.
    static let mucOwner = "http://jabber.org/protocol/muc#owner"

    private static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "'", with: "&apos;")
            .replacingOccurrences(of: "<", with: "&lt;")
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case let error as NIOSSLError: "TLS \(error)"
        case let error as IOError: "I/O \(error.errnoCode)"
        default: "\(type(of: error))"
        }
    }
}

/// What one connection sent and received in a scenario.
struct TrafficStats: Sendable {
    var sent = 0
    /// Open loop: messages the schedule asked for (those skipped for being too late are intended − sent).
    var intended = 0
    var maxSendLag: UInt64 = 0
    var sendLagTotal: UInt64 = 0
    /// Benchmark groupchat messages received, own reflections included.
    var delivered = 0
    var firstSend: UInt64 = 0
    var lastDelivery: UInt64 = 0
    /// Receive time − send time of each delivery, in nanoseconds.
    var latencies: [UInt64] = []
}

/// How a connection sends in a scenario.
struct TrafficPlan: Sendable {
    enum Pacing: Sendable {
        /// Each sender keeps at most `window` of its `messages` in flight.
        case closedLoop(messages: Int, window: Int)
        case openLoop(OpenLoopSchedule)
    }

    let template: GroupchatTemplate
    let pacing: Pacing
    /// Known up front in a closed loop; an open loop learns it after sending stops.
    let expectedDeliveries: Int?
}

/// One sender's share of an open-loop rate: message k is due at `start + offset + k × interval`.
struct OpenLoopSchedule: Sendable {
    /// A message more than this late is skipped, so the pace figure shows a generator that fell behind.
    static let lateLimitNanoseconds: UInt64 = 10_000_000

    let start: UInt64
    let offset: UInt64
    let interval: UInt64
    let intendedCount: Int

    init(start: UInt64, end: UInt64, offset: UInt64, interval: UInt64) {
        self.start = start
        self.offset = offset
        self.interval = max(interval, 1)
        let first = start + offset
        intendedCount = first >= end ? 0 : Int((end - first - 1) / self.interval) + 1
    }

    func due(_ sequence: Int) -> UInt64 {
        start + offset + UInt64(sequence) * interval
    }
}

public enum ServerBenchmarkError: Error, CustomStringConvertible {
    case invalidOptions([String])
    case connectionFailed(String)
    case setUpFailed(String)

    public var description: String {
        switch self {
        case .invalidOptions(let problems): problems.joined(separator: "\n")
        case .connectionFailed(let reason): reason
        case .setUpFailed(let reason): reason
        }
    }
}
