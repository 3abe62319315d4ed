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
    /// the rooms are joined again and the sessions with the members present before (if
    /// any) are re-established, or when waiting for them is over.
    func sendQueued(_ trigger: FlushTrigger) async {
        let engines = state.withLockedValue { $0.open || $0.flushing ? [:] : $0.engines }
        guard !engines.isEmpty else { return }
        var ready = Set<String>()
        if trigger != .timeUp {
            for (room, engine) in engines { ready.formUnion(await engine.memberList().filter(\.ready).map { "\(room) \($0.id)" }) }
        }
        guard state.withLockedValue({ state in
            let due = switch trigger {
            case .ready: state.awaited.isSubset(of: ready)
            case .memberJoined: !state.awaited.isEmpty && state.awaited.isSubset(of: ready)
            case .timeUp: true
            }
            guard due, !state.flushing, !state.open, state.link != nil else { return false }
            state.flushing = true
            state.awaited = []
            return true
        }) else { return }
        var sent = 0
        while true {
            let (connected, batch) = state.withLockedValue { state -> (Bool, [OutgoingQueue.Message]) in
                let batch = state.queue.removeAll()
                if batch.isEmpty || state.link == nil {
                    state.open = state.link != nil
                    state.flushing = false
                }
                return (state.link != nil, batch)
            }
            guard connected, !batch.isEmpty else {
                // The connection went while sending: what is left waits for the next one.
                if !connected { state.withLockedValue { $0.queue.prepend(batch) } }
                break
            }
            for message in batch {
                do {
                    try await send(message)
                    sent += 1
                } catch {
                    emit(.notSent(text: message.text, reason: "\(error)"), in: message.room)
                }
            }
        }
        if sent > 0 { emit(.notice("sent \(sent) queued message\(sent == 1 ? "" : "s")")) }
    }

    /// Sends through the message's room; a side chat to a member by key goes through
    /// another room of this client the member is in when it is not in that one.
    private func send(_ message: OutgoingQueue.Message) async throws {
        let engines = state.withLockedValue { state in state.rooms.compactMap { state.engines[$0] } }
        guard let engine = engines.first(where: { $0.room == message.room }) else {
            throw NotSent(description: "not in \(message.room) any more")
        }
        switch message.to {
        case nil: try await engine.say(message.text, action: message.action)
        case .named(let nick): try await engine.whisper(message.text, to: nick)
        case .member(let member):
            var through = engine
            if await !engine.canWhisper(toID: member.id) {
                for other in engines where await other.canWhisper(toID: member.id) {
                    through = other
                    break
                }
            }
            try await through.whisper(message.text, toID: member.id, shownAs: member.nick)
        }
    }

    /// Sends now, or queues while disconnected: the number waiting then, nil if sent.
    func deliver(_ message: OutgoingQueue.Message) async throws -> Int? {
        enum Route { case now, queued(Int), full, closed, notYet }
        let route = state.withLockedValue { state -> Route in
            if state.open { return state.engines[message.room] == nil ? .notYet : .now }
            if state.finished || state.left { return .closed }
            return state.queue.append(message) ? .queued(state.queue.messages.count) : .full
        }
        switch route {
        case .now:
            try await send(message)
            return nil
        case .queued(let waiting): return waiting
        case .full: throw NotSent(description: "not connected, and \(configuration.queueLimit) messages already wait: this one is not sent")
        case .closed: throw NotSent(description: "not connected: not sent")
        case .notYet: throw NotSent(description: "not in \(message.room) yet: not sent")
        }
    }

    /// A message refused while disconnected.
    struct NotSent: Error, CustomStringConvertible {
        let description: String
    }
}
