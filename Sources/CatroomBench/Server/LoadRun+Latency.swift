import NIOCore

/// The latency scenario: an open loop at a fixed rate.
extension LoadRun {
    /// `--rate` messages per second spread evenly over every occupant for `--duration`
    /// seconds, whatever the server does (an open loop: replies do not pace sends). Each
    /// receiver records receive time − the send time carried in the id.
    func latency() async -> ServerBenchmarkReport.Scenario {
        let deadline = startScenario()
        let senders = options.rooms * options.occupants
        var report = ServerBenchmarkReport.Scenario(
            name: "latency",
            parameters: roomParameters() + [
                .init(name: "rate", value: String(format: "%.0f/s", options.rate)),
                .init(name: "duration", value: String(format: "%.1f s", options.durationSeconds)),
            ],
            catroomLimits: catroomLimits(connections: senders, occupants: options.occupants, stanzaRate: options.rate / Double(senders)))
        guard let rooms = await openRooms(scenario: "l", deadline: deadline, reporting: &report) else { return report }
        let connections = rooms.flatMap(\.occupants)

        // Sender p's messages are due at start + p/rate + k·senders/rate: evenly spread overall.
        let spacing = 1e9 / options.rate
        let interval = UInt64((spacing * Double(senders)).rounded())
        let start = monotonicNanoseconds() + 100_000_000
        let end = start + UInt64(options.durationSeconds * 1e9)
        progress.reset()
        let before = snapshot()
        for room in rooms {
            let template = GroupchatTemplate(room: room.jid, payloadBytes: options.payloadBytes)
            for connection in room.occupants {
                let schedule = OpenLoopSchedule(
                    start: start, end: end, offset: UInt64(Double(connection.index) * spacing), interval: interval)
                let plan = TrafficPlan(template: template, pacing: .openLoop(schedule), expectedDeliveries: nil)
                connection.execute { $0.start(plan) }
            }
        }
        // Past the end and the last late send allowed, every sender has sent all it will.
        await sleep(until: .uptimeNanoseconds(end + OpenLoopSchedule.lateLimitNanoseconds) + .milliseconds(20), deadline: deadline)
        var expectedTotal = 0
        for room in rooms {
            let sent = await settle(room.occupants.map { $0.submit { $0.stopSending() } }, by: deadline)?
                .reduce(0) { $0 + ((try? $1.get()) ?? 0) } ?? 0
            for connection in room.occupants { connection.execute { $0.expect(sent) } }
            expectedTotal += sent * room.occupants.count
        }
        let finished = await wait(until: deadline) { progress.settledConnections >= connections.count }
        let after = snapshot()
        let stats = await takeStatsAndClose(connections)

        let intended = stats.reduce(0) { $0 + $1.intended }
        let sent = stats.reduce(0) { $0 + $1.sent }
        let delivered = stats.reduce(0) { $0 + $1.delivered }
        let lagTotal = stats.reduce(0) { $0 + Double($1.sendLagTotal) }
        report.latency = .init(
            senders: senders, targetRate: options.rate, intended: intended, sent: sent,
            pace: intended > 0 ? Double(sent) / Double(intended) : 0,
            achievedRate: Double(sent) / options.durationSeconds,
            meanSendLagMilliseconds: sent > 0 ? lagTotal / Double(sent) / 1e6 : 0,
            maxSendLagMilliseconds: Double(stats.map(\.maxSendLag).max() ?? 0) / 1e6,
            delivered: delivered, expected: expectedTotal, latency: .init(nanoseconds: stats.flatMap(\.latencies)))
        report.completed = finished && delivered == expectedTotal && expectedTotal > 0
        if !report.completed { report.failure = finished ? "connections failed or nothing was sent" : "timed out after \(options.timeoutSeconds) s" }
        record(from: before, to: after, in: &report)
        report.errors = progress.takeErrors()
        return report
    }
}
