import CatroomXML
import NIOCore
import Synchronization

/// What the rest of the server holds of a connection: a way to send it bytes,
/// with the outbound cap (SECURITY-CASES SR-04) enforced at the point of sending.
///
/// Thread-safe: any event loop may send. A connection whose queued bytes would
/// pass the cap is not sent more; it is told to close as a slow reader instead.
final class ConnectionHandle: Sendable, Hashable {
    let id: Int
    let channel: Channel
    /// The peer's IP address, for per-address limits.
    let address: String
    private let maxQueuedBytes: Int
    private let queuedBytes = Atomic<Int>(0)

    init(id: Int, channel: Channel, address: String, maxQueuedBytes: Int) {
        self.id = id
        self.channel = channel
        self.address = address
        self.maxQueuedBytes = maxQueuedBytes
    }

    /// Sends a stanza serialised for a `jabber:client` stream.
    func send(_ element: XML.Element) {
        send(bytes: element.serialized(inheritedNamespace: "jabber:client"))
    }

    func send(bytes: [UInt8]) {
        let count = bytes.count
        let (queued, _) = queuedBytes.add(count, ordering: .relaxed)
        guard queued <= maxQueuedBytes else {
            queuedBytes.subtract(count, ordering: .relaxed)
            channel.pipeline.fireUserInboundEventTriggered(ConnectionEvent.slowReader)
            return
        }
        let buffer = channel.allocator.buffer(bytes: bytes)
        let promise = channel.eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenComplete { [self] _ in queuedBytes.subtract(count, ordering: .relaxed) }
        channel.writeAndFlush(buffer, promise: promise)
    }

    /// Asks the connection to end its stream with `error` (from any thread).
    func close(with error: ConnectionEvent) {
        channel.pipeline.fireUserInboundEventTriggered(error)
    }

    static func == (lhs: ConnectionHandle, rhs: ConnectionHandle) -> Bool { lhs.id == rhs.id }
    func hash(into hasher: inout Hasher) { hasher.combine(id) }
}

/// Events other parts of the server send to a connection's handler.
enum ConnectionEvent: Sendable {
    /// Its outbound queue passed the cap.
    case slowReader
    /// Another stream proved the same identity key (SECURITY-CASES AR-05).
    case replaced
    /// The server is shutting down.
    case shutdown
}
