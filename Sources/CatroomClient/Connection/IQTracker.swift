import CatroomProtocol
import CatroomXML
import NIOConcurrencyHelpers

/// Matches IQ replies to requests (RFC 6120 §8.2.3: every get or set gets one result or error).
final class IQTracker: Sendable {
    private struct Waiting {
        let continuation: CheckedContinuation<XML.Element, Error>
        /// The request's `to`: only a reply from there answers it.
        let to: JID?
    }

    /// nil once the stream has ended.
    private let pending = NIOLockedValueBox<[String: Waiting]?>([:])
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
        let to = request.attribute("to").flatMap { try? JID($0) }
        return try await withCheckedThrowingContinuation { continuation in
            let open = pending.withLockedValue { pending in
                pending?[id] = Waiting(continuation: continuation, to: to)
                return pending != nil
            }
            guard open else { return continuation.resume(throwing: Closed()) }
            connection.send(request)
            Task {
                try? await Task.sleep(for: timeout)
                self.pending.withLockedValue { $0?.removeValue(forKey: id) }?.continuation.resume(throwing: Timeout())
            }
        }
    }

    /// Hands a reply to its waiting request; false if nobody waits for it.
    func resolve(_ element: XML.Element) -> Bool {
        guard element.name == "iq", let type = element.attribute("type"), type == "result" || type == "error",
              let id = element.attribute("id"),
              let waiting = pending.withLockedValue({ pending -> Waiting? in
                  guard let waiting = pending?[id], Self.answers(element, requestTo: waiting.to) else { return nil }
                  pending?[id] = nil
                  return waiting
              })
        else { return false }
        waiting.continuation.resume(returning: element)
        return true
    }

    /// Whether `reply` comes from where the request went. The server stamps every stanza
    /// with its sender's address (RFC 6120 §8.1.2.1), so a reply from elsewhere is another
    /// account's guess at the id, not an answer: it must not fail or fake a bundle fetch.
    /// A request without `to` went to the server, which answers without `from` or with its
    /// own address; those are taken as they come.
    static func answers(_ reply: XML.Element, requestTo to: JID?) -> Bool {
        guard let to else { return true }
        return reply.attribute("from").flatMap { try? JID($0) } == to
    }

    /// The connection ended: every waiting request fails, and so does any made later,
    /// so nothing waits for an answer that cannot come (a `/quit` while publishing prekeys).
    func close() {
        let waiting = pending.withLockedValue { pending in
            defer { pending = nil }
            return pending ?? [:]
        }
        for waiting in waiting.values { waiting.continuation.resume(throwing: Closed()) }
    }
}
