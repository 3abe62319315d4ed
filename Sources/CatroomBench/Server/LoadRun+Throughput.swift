import NIOCore

/// The throughput scenario: a closed loop at saturation.
extension LoadRun {
    /// Every occupant sends `--messages` groupchat messages, keeping at most `--window` of its
    /// own in flight and sending the next when one is reflected back (XEP-0045 §7.4). The
    /// rate is every groupchat stanza every client received, over the time from the first
    /// send to the last delivery.
    func throughput() async -> ServerBenchmarkReport.Scenario {
        let deadline = startScenario()
        let occupants = options.rooms * options.occupants
        var report = ServerBenchmarkReport.Scenario(
            name: "throughput",
            parameters: roomParameters() + [
                .init(name: "messages", value: String(options.messages)), .init(name: "window", value: String(options.window)),
            ],
            catroomLimits: catroomLimits(connections: occupants, occupants: options.occupants))
        guard let rooms = await openRooms(scenario: "t", deadline: deadline, reporting: &report) else { return report }
        let connections = rooms.flatMap(\.occupants)
        let expected = options.occupants * options.messages

        progress.reset()
        let before = snapshot()
        for room in rooms {
            let plan = TrafficPlan(
                template: GroupchatTemplate(room: room.jid, payloadBytes: options.payloadBytes),
                pacing: .closedLoop(messages: options.messages, window: options.window),
                expectedDeliveries: expected)
            for connection in room.occupants { connection.execute { $0.start(plan) } }
        }
        let finished = await wait(until: deadline) { progress.settledConnections >= connections.count }
        let after = snapshot()
        let stats = await takeStatsAndClose(connections)

        let delivered = stats.reduce(0) { $0 + $1.delivered }
        let firstSend = stats.map(\.firstSend).filter { $0 > 0 }.min() ?? 0
        let lastDelivery = stats.map(\.lastDelivery).max() ?? 0
        let seconds = lastDelivery > firstSend && firstSend > 0 ? Double(lastDelivery - firstSend) / 1e9 : 0
        let sent = stats.reduce(0) { $0 + $1.sent }
        let sendRate = seconds > 0 ? Double(options.messages) / seconds : 0
        report.throughput = .init(
            occupants: occupants, messagesSent: sent, delivered: delivered, expected: expected * occupants, seconds: seconds,
            stanzasPerSecond: seconds > 0 ? Double(delivered) / seconds : 0, sendsPerSecondPerSender: sendRate,
            latency: .init(nanoseconds: stats.flatMap(\.latencies)))
        report.completed = finished && delivered == expected * occupants
        if !report.completed { report.failure = finished ? "connections failed" : "timed out after \(options.timeoutSeconds) s" }
        record(from: before, to: after, in: &report)
        report.catroomLimits = catroomLimits(
            connections: occupants, occupants: options.occupants, stanzaRate: sendRate, measuredRate: true)
        report.errors = progress.takeErrors()
        return report
    }
}
