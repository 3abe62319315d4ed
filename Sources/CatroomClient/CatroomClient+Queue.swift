/// Messages sent while no connection is ready wait in `State.queue` (an `OutgoingQueue`).
extension CatroomClient {
    /// What may let the queue go.
    enum FlushTrigger {
        /// The members present at joining completed their key exchanges.
        case ready
        /// One more member did: enough if it was the last of those present before the drop.
        case memberJoined
        /// Waiting for the members present before is over.
        case timeUp
    }

    /// Sends what was queued while disconnected, then lets messages go straight out: once
    /// the room is joined again and the sessions with the members present before (if
    /// any) are re-established, or when waiting for them is over.
    func sendQueued(_ trigger: FlushTrigger) async {
        guard let engine = state.withLockedValue({ $0.open || $0.flushing ? nil : $0.engine }) else { return }
        let ready = trigger == .timeUp ? [] : Set(await engine.memberList().filter(\.ready).map(\.id))
        guard state.withLockedValue({ state in
            let due = switch trigger {
            case .ready: state.awaited.isSubset(of: ready)
            case .memberJoined: !state.awaited.isEmpty && state.awaited.isSubset(of: ready)
            case .timeUp: true
            }
            guard due, !state.flushing, !state.open, state.engine === engine else { return false }
            state.flushing = true
            state.awaited = []
            return true
        }) else { return }
        var sent = 0
        while true {
            let (engine, batch) = state.withLockedValue { state -> (RoomEngine?, [OutgoingQueue.Message]) in
                let batch = state.queue.removeAll()
                if batch.isEmpty || state.engine == nil {
                    state.open = state.engine != nil
                    state.flushing = false
                }
                return (state.engine, batch)
            }
            guard let engine, !batch.isEmpty else {
                // The connection went while sending: what is left waits for the next one.
                if engine == nil { state.withLockedValue { $0.queue.prepend(batch) } }
                break
            }
            for message in batch {
                do {
                    try await send(message, via: engine)
                    sent += 1
                } catch {
                    emit(.notSent(text: message.text, reason: "\(error)"))
                }
            }
        }
        if sent > 0 { emit(.notice("sent \(sent) queued message\(sent == 1 ? "" : "s")")) }
    }

    private func send(_ message: OutgoingQueue.Message, via engine: RoomEngine) async throws {
        switch message.to {
        case nil: try await engine.say(message.text, action: message.action)
        case .named(let nick): try await engine.whisper(message.text, to: nick)
        case .member(let member): try await engine.whisper(message.text, toID: member.id, shownAs: member.nick)
        }
    }

    /// Sends now, or queues while disconnected: the number waiting then, nil if sent.
    func deliver(_ message: OutgoingQueue.Message) async throws -> Int? {
        enum Route { case now(RoomEngine), queued(Int), full, closed }
        let route = state.withLockedValue { state -> Route in
            if state.open, let engine = state.engine { return .now(engine) }
            if state.finished || state.left { return .closed }
            return state.queue.append(message) ? .queued(state.queue.messages.count) : .full
        }
        switch route {
        case .now(let engine):
            try await send(message, via: engine)
            return nil
        case .queued(let waiting): return waiting
        case .full: throw NotSent(description: "not connected, and \(configuration.queueLimit) messages already wait: this one is not sent")
        case .closed: throw NotSent(description: "not connected: not sent")
        }
    }

    /// A message refused while disconnected.
    struct NotSent: Error, CustomStringConvertible {
        let description: String
    }
}
