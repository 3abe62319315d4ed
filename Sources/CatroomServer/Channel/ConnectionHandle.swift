import CatroomXML
import NIOCore
import Synchronization

/// What the rest of the server holds of a connection: a way to send it bytes,
/// with the outbound cap (SECURITY-CASES SR-04) enforced at the point of sending.
///
/// Thread-safe: any event loop may send. A connection whose unsent bytes pass the
/// channel's high water mark (`--max-outbound-bytes`) is not sent more; it is told
/// to close as a slow reader instead.
final class ConnectionHandle: Sendable, Hashable {
    let id: Int
    let channel: Channel
    /// The peer's IP address, for per-address limits.
    let address: String
    private let flushScheduled = Atomic<Bool>(false)
    private let unflushedBytes = Atomic<Int>(0)
    static let flushThreshold = 32 * 1024

    init(id: Int, channel: Channel, address: String) {
        self.id = id
        self.channel = channel
        self.address = address
    }

    /// Sends a stanza serialised for a `jabber:client` stream.
    func send(_ element: XML.Element) {
        send(bytes: element.serialized(inheritedNamespace: "jabber:client"))
    }

    /// Sends bytes from any thread.
    func send(bytes: [UInt8]) {
        if channel.eventLoop.inEventLoop {
            enqueue(bytes)
        } else {
            channel.eventLoop.execute { self.enqueue(bytes) }
        }
    }

    /// Writes on the channel's event loop, and flushes once at the end of this loop
    /// iteration, however many stanzas it was given meanwhile: one TLS record and
    /// one system call for a burst instead of one per stanza.
    func enqueue(_ bytes: [UInt8]) {
        // The channel's high water mark is the cap: past it, this is a slow reader.
        guard channel.isWritable else {
            channel.pipeline.fireUserInboundEventTriggered(ConnectionEvent.slowReader)
            return
        }
        channel.write(channel.allocator.buffer(bytes: bytes), promise: nil)
        // A large burst goes out at once rather than waiting for the end of the iteration
        // against the outbound cap.
        if unflushedBytes.add(bytes.count, ordering: .relaxed).newValue >= Self.flushThreshold {
            unflushedBytes.store(0, ordering: .relaxed)
            channel.flush()
        }
        if !flushScheduled.exchange(true, ordering: .relaxed) {
            channel.eventLoop.execute {
                self.flushScheduled.store(false, ordering: .relaxed)
                self.unflushedBytes.store(0, ordering: .relaxed)
                self.channel.flush()
            }
        }
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
