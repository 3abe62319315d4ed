import NIOConcurrencyHelpers

/// The deadline of the blocking phase a connection is in. Each phase re-arms it; when
/// it passes, the connection is closed, so whatever waits on it fails, and `expired`
/// says which phase the server did not finish.
final class PhaseDeadline: Sendable {
    enum Phase: String, Sendable {
        case stream = "open the stream"
        case tls = "finish TLS"
        case registration = "complete the registration"
        case authentication = "complete the authentication (SASL)"
        case bind = "bind a resource"
        case join = "let us into the room"
    }

    struct Expired: Error, CustomStringConvertible {
        let phase: Phase
        let seconds: Double
        var description: String { "the server did not \(phase.rawValue) within \(seconds.secondsText) s" }
    }

    private let seconds: Double
    private let connection: StanzaConnection
    private let state = NIOLockedValueBox<(timer: Task<Void, Never>?, expired: Expired?)>((nil, nil))

    init(seconds: Double, connection: StanzaConnection) {
        self.seconds = seconds
        self.connection = connection
    }

    /// Starts `phase`'s time, ending the previous phase's.
    func arm(_ phase: Phase) {
        let timer = Task { [seconds, connection, state] in
            guard (try? await Task.sleep(for: .seconds(seconds))) != nil else { return }
            state.withLockedValue { $0.expired = $0.expired ?? Expired(phase: phase, seconds: seconds) }
            connection.close()
        }
        state.withLockedValue { let previous = $0.timer; $0.timer = timer; return previous }?.cancel()
    }

    /// The phase is over.
    func disarm() {
        state.withLockedValue { let timer = $0.timer; $0.timer = nil; return timer }?.cancel()
    }

    /// The phase that ran out of time, if one did.
    var expired: Expired? { state.withLockedValue { $0.expired } }
}

extension Double {
    /// "15", "0.5": seconds as people write them, to a tenth.
    var secondsText: String {
        let tenths = (self * 10).rounded()
        return tenths.truncatingRemainder(dividingBy: 10) == 0 ? String(Int(tenths / 10)) : String(tenths / 10)
    }
}
