import NIOCore

/// The idle scenario: many authenticated connections that say nothing.
extension LoadRun {
    /// Logs in `--connections` clients (`--concurrency` at a time), each binding a resource
    /// and sending initial presence, holds them while the server settles, then measures
    /// and closes them all. Memory per connection is the server's RSS growth over the count.
    func idle() async -> ServerBenchmarkReport.Scenario {
        let deadline = startScenario()
        let count = options.connections
        var report = ServerBenchmarkReport.Scenario(
            name: "idle",
            parameters: [
                .init(name: "connections", value: String(count)), .init(name: "concurrency", value: String(options.concurrency)),
            ],
            catroomLimits: catroomLimits(connections: count))

        let before = snapshot()
        let start = monotonicNanoseconds()
        let (connections, failures, lastLogin) = await connectAll(count: count, scenario: "i", sendsPresence: true, deadline: deadline)
        let loggedIn = snapshot()
        await sleep(until: .now() + .nanoseconds(Int64(options.settleSeconds * 1e9)), deadline: deadline)
        let settled = snapshot()

        await closeAll(connections)
        await sleep(until: .now() + .nanoseconds(Int64(options.settleSeconds * 1e9)), deadline: deadline + .seconds(60))
        let closed = snapshot()

        let connected = connections.count
        let seconds = lastLogin > start ? Double(lastLogin - start) / 1e9 : 0
        let perConnection = { (before: Int, after: Int) in connected > 0 ? Double(after - before) / Double(connected) : 0 }
        let perLogin = { (before: Double, after: Double) in connected > 0 ? (after - before) * 1000 / Double(connected) : 0 }
        var serverCPU: Double?
        var serverMemory: Double?
        if let serverBefore = before.server, let serverLoggedIn = loggedIn.server, let serverSettled = settled.server {
            serverCPU = perLogin(serverBefore.cpuSeconds, serverLoggedIn.cpuSeconds)
            serverMemory = perConnection(serverBefore.rssKiB, serverSettled.rssKiB)
        }
        report.idle = .init(
            requested: count, connected: connected, failed: failures, loginSeconds: seconds,
            loginsPerSecond: seconds > 0 ? Double(connected) / seconds : 0,
            serverCPUMillisecondsPerLogin: serverCPU,
            generatorCPUMillisecondsPerLogin: perLogin(before.generator.cpuSeconds, loggedIn.generator.cpuSeconds),
            serverKiBPerConnection: serverMemory,
            generatorKiBPerConnection: perConnection(before.generator.rssKiB, settled.generator.rssKiB),
            serverRSSAfterCloseKiB: closed.server?.rssKiB)
        report.completed = failures == 0
        if !report.completed { report.failure = "\(failures) of \(count) logins failed" }
        record(from: before, to: loggedIn, in: &report)
        report.server?.rssAfterKiB = settled.server?.rssKiB ?? 0
        report.generator.rssAfterKiB = settled.generator.rssKiB
        report.errors = progress.takeErrors()
        return report
    }
}
