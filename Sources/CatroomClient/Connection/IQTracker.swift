import CatroomProtocol
import CatroomXML
import NIOConcurrencyHelpers

/// Matches IQ replies to requests (RFC 6120 §8.2.3: every get or set gets one result or error).
final class IQTracker: Sendable {
    /// nil once the stream has ended.
    private let pending = NIOLockedValueBox<[String: CheckedContinuation<XML.Element, Error>]?>([:])
    private let counter = NIOLockedValueBox(0)

    struct Timeout: Error, CustomStringConvertible {
        var description: String { "the server did not answer in time" }
    }

    /// The stream ended before an answer came.
    struct Closed: Error, CustomStringConvertible {
        var description: String { "the connection ended" }
    }

    /// Sends `request` with a fresh id and waits for its reply.
    func request(_ request: XML.Element, on connection: StanzaConnection, timeout: Duration = .seconds(10)) async throws -> XML.Element {
        let id = "q" + String(counter.withLockedValue { $0 += 1; return $0 })
        var request = request
        request[attribute: "id"] = id
        return try await withCheckedThrowingContinuation { continuation in
            let open = pending.withLockedValue { pending in
                pending?[id] = continuation
                return pending != nil
            }
            guard open else { return continuation.resume(throwing: Closed()) }
            connection.send(request)
            Task {
                try? await Task.sleep(for: timeout)
                self.pending.withLockedValue { $0?.removeValue(forKey: id) }?.resume(throwing: Timeout())
            }
        }
    }

    /// Hands a reply to its waiting request; false if nobody waits for it.
    func resolve(_ element: XML.Element) -> Bool {
        guard element.name == "iq", let type = element.attribute("type"), type == "result" || type == "error",
              let id = element.attribute("id"),
              let continuation = pending.withLockedValue({ $0?.removeValue(forKey: id) })
        else { return false }
        continuation.resume(returning: element)
        return true
    }

    /// The connection ended: every waiting request fails, and so does any made later,
    /// so nothing waits for an answer that cannot come (a `/quit` while publishing prekeys).
    func close() {
        let waiting = pending.withLockedValue { pending in
            defer { pending = nil }
            return pending ?? [:]
        }
        for continuation in waiting.values { continuation.resume(throwing: Closed()) }
    }
}
