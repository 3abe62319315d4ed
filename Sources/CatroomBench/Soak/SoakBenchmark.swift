import CatroomClient
import CatroomCrypto
import NIOPosix
import Synchronization

/// `catroom bench soak`: one server under chatting clients, churn and a hostile loop at
/// once, for a set time. Delivery must be 100% and the server's RSS must stay bounded.
///
/// The server is `catroom serve` as a child process (this binary), so its RSS is its own.
/// Everyone else runs in this process on loopback: each chatting client from its own
/// 127.0.1.x address, churning clients through a relay from 127.0.(10+room).x, the hostile
/// loop from 127.0.3.x and 127.0.4.x, so the server keeps its default per-address limits.
public struct SoakBenchmark: Sendable {
    public struct Options: Sendable {
        public var seconds = 600.0
        public var rooms = 3
        public var chattersPerRoom = 3
        /// Mean seconds between two messages of one chatting client.
        public var messageInterval = 2.0
        public var sampleSeconds = 10.0
        public var maxGrowthMiB = 16
        /// The catroom binary whose `serve` runs the server.
        public var binary: String

        public init(binary: String) { self.binary = binary }

        public func problems() -> [String] {
            var problems: [String] = []
            if !(5...86_400).contains(seconds) { problems.append("the run must last 5 s to 24 h") }
            if !(1...8).contains(rooms) { problems.append("--rooms must be 1 to 8") }
            if !(2...50).contains(chattersPerRoom) { problems.append("--chatters must be 2 to 50") }
            if !(0.1...60).contains(messageInterval) { problems.append("--message-interval must be 0.1 to 60 seconds") }
            if !(1...600).contains(sampleSeconds) { problems.append("--sample-seconds must be 1 to 600") }
            if !(1...4096).contains(maxGrowthMiB) { problems.append("--max-growth-mib must be 1 to 4096") }
            return problems
        }
    }

    public let options: Options
    /// An expected delivery not made within this of its send, by a member that stayed, is lost.
    static let deliveryWindow = Duration.seconds(30)

    public init(options: Options) { self.options = options }

    public func run() async throws -> SoakReport {
        let server = try SoakServer.start(binary: options.binary)
        defer { server.stop() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let run = SoakRun(server: server, group: group)
        do {
            let report = try await load(run)
            try? await group.shutdownGracefully()
            return report
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private func load(_ run: SoakRun) async throws -> SoakReport {
        let server = run.server
        // The chatting clients join one after another.
        var chatters: [SoakMember] = []
        for room in 0..<options.rooms {
            for seat in 0..<options.chattersPerRoom {
                let member = run.member(room: room, nick: "chat\(seat)", port: server.port, identity: .generate())
                member.start(group: run.group)
                chatters.append(member)
                guard await member.waitUntilReady(within: .seconds(60)) else {
                    for member in chatters { await member.leave() }
                    throw SoakError("chatting client \(member.number) never got into its room")
                }
            }
        }

        let start = ContinuousClock.now
        let stopSending = start + .seconds(options.seconds)
        let hostile = try HostileLoop(serverPort: server.port, group: run.group)
        let (interval, messageInterval, seconds) = (options.sampleSeconds, options.messageInterval, options.seconds)
        let sampling = Task {
            for _ in 0..<Int(seconds / interval + 100) {
                guard run.sample(since: start) else { return }
                guard (try? await Task.sleep(for: .seconds(interval))) != nil else { return }
            }
        }
        await withTaskGroup(of: Void.self) { tasks in
            for member in chatters {
                tasks.addTask { await run.chat(member, every: messageInterval, until: stopSending) }
            }
            for room in 0..<options.rooms {
                tasks.addTask { await run.churn(room: room, until: stopSending) }
            }
            tasks.addTask { await hostile.run(until: stopSending, pause: .milliseconds(500)) }
        }

        // Drain: what is still on its way gets a bounded time to arrive.
        let drainEnd = ContinuousClock.now + Self.deliveryWindow
        while ContinuousClock.now < drainEnd, !run.ledger.complete(window: Self.deliveryWindow) {
            try? await Task.sleep(for: .milliseconds(200))
        }
        sampling.cancel()
        _ = await sampling.value
        _ = run.sample(since: start)
        let serverAlive = server.isRunning
        for member in chatters { await member.leave() }

        let tally = run.ledger.tally(window: Self.deliveryWindow)
        let delivery = SoakReport.Delivery(messages: tally.messages, expected: tally.expected, delivered: tally.delivered, lost: tally.lost)
        let samples = run.samples.withLock { $0 }
        let growth = SoakReport.growth(samples.map(\.rssKiB), boundKiB: options.maxGrowthMiB * 1024)
        let hostileResults = hostile.results()
        return SoakReport(
            seconds: options.seconds, sampleSeconds: options.sampleSeconds, rooms: options.rooms, chattersPerRoom: options.chattersPerRoom,
            samples: samples, delivery: delivery, growth: growth, churn: run.churned.withLock { $0 }, hostile: hostileResults,
            clientReports: run.reports.all,
            failures: SoakReport.failures(delivery: delivery, growth: growth, hostile: hostileResults, serverAlive: serverAlive))
    }
}

/// What the soak's concurrent loops share.
final class SoakRun: Sendable {
    let server: SoakServer
    let group: MultiThreadedEventLoopGroup
    let ledger = DeliveryLedger()
    let reports = ClientReports()
    let samples = Mutex<[SoakReport.Sample]>([])
    let churned = Mutex(SoakReport.Churn())
    private let numbers = Atomic<Int>(0)

    init(server: SoakServer, group: MultiThreadedEventLoopGroup) {
        self.server = server
        self.group = group
    }

    /// A new member of room `soak<room>`, connecting to `port` on 127.0.0.1 (the server or a relay).
    func member(room: Int, nick: String, port: Int, identity: IdentityKeyPair) -> SoakMember {
        let number = numbers.add(1, ordering: .relaxed).oldValue
        var configuration = ClientConfiguration(
            host: "127.0.0.1", domain: "localhost", room: "soak\(room)", nick: nick, trust: .pinned(server.fingerprint))
        configuration.port = port
        // Chatting clients each get an address of their own; relayed ones come from the relay's.
        configuration.sourceAddress = port == server.port ? "127.0.1.\(number % 250 + 1)" : nil
        return SoakMember(number: number, configuration: configuration, identity: identity, ledger: ledger, reports: reports)
    }

    /// Reads the server's RSS; false once the server is gone.
    func sample(since start: ContinuousClock.Instant) -> Bool {
        guard let sample = ProcessSample.read(pid: server.pid) else { return false }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        samples.withLock { $0.append(.init(seconds: seconds, rssKiB: sample.rssKiB, deliveries: ledger.deliveries)) }
        return true
    }

    /// A chatting client's messages, at a jittered `interval`, while it is ready.
    func chat(_ member: SoakMember, every interval: Double, until end: ContinuousClock.Instant) async {
        for sequence in 0..<1_000_000 {
            let pause = Duration.seconds(interval * Double.random(in: 0.5...1.5))
            guard ContinuousClock.now + pause < end, (try? await Task.sleep(for: pause)) != nil else { return }
            await member.say("soak \(member.number).\(sequence)")
        }
    }

    /// Churn in one room, cycle after cycle: a member joins through a relay, speaks, and
    /// then leaves (cycle 0 mod 3), has its connection cut and comes back by itself before
    /// leaving (1 mod 3), or leaves and joins again with the same key (2 mod 3).
    func churn(room: Int, until end: ContinuousClock.Instant) async {
        for cycle in 0..<100_000 {
            guard ContinuousClock.now < end, !Task.isCancelled else { return }
            // A fresh source address per cycle keeps each under the per-address registration limit.
            guard let relay = try? await SoakRelay.start(serverPort: server.port, source: "127.0.\(10 + room).\(cycle % 250 + 1)", group: group) else {
                reports.record("a relay could not start")
                return
            }
            let identity = IdentityKeyPair.generate()
            let visits = cycle % 3 == 2 ? 2 : 1
            for visit in 0..<visits where ContinuousClock.now < end {
                let member = member(room: room, nick: "churn\(cycle % 3)", port: relay.port, identity: identity)
                member.start(group: group)
                guard await member.waitUntilReady(within: .seconds(60)) else {
                    reports.record("a churning client never got ready")
                    await member.leave()
                    continue
                }
                churned.withLock {
                    $0.joins += 1
                    if visit > 0 { $0.returns += 1 }
                }
                try? await Task.sleep(for: .seconds(1))
                await member.say("soak \(member.number).0")
                if cycle % 3 == 1 {
                    member.cut()
                    relay.cut()
                    churned.withLock { $0.reconnects += 1 }
                    // The client notices the drop and comes back through the same relay.
                    if await member.waitUntilReady(within: .seconds(60)) {
                        try? await Task.sleep(for: .seconds(1))
                        await member.say("soak \(member.number).1")
                    } else {
                        reports.record("a cut client did not come back")
                    }
                }
                try? await Task.sleep(for: .seconds(1))
                await member.leave()
                churned.withLock { $0.leaves += 1 }
            }
            await relay.stop()
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
