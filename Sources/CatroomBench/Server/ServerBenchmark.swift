import CatroomCrypto
import CatroomServer
import NIOCore
import NIOPosix
import NIOSSL

/// `catroom bench server`: a load generator for any XMPP server with XEP-0045 rooms.
///
/// Three scenarios, each bounded by `--timeout`:
/// * **throughput**: rooms of occupants, each sending `messages` with at most `window` in
///   flight (a closed loop); delivered groupchat stanzas per second at saturation.
/// * **latency**: the same rooms, a paced total rate (an open loop); receive − send percentiles.
/// * **idle**: many authenticated idle connections; logins per second and memory per connection.
///
/// With a server PID it samples the server's CPU time and RSS around each measured phase,
/// and always its own, since generator and server share the machine.
public struct ServerBenchmark: Sendable {
    public let options: ServerBenchmarkOptions
    /// Account names are `<accountPrefix><n>`.
    public let accountPrefix: String

    public init(options: ServerBenchmarkOptions) {
        self.options = options
        if let prefix = options.accountPrefix {
            accountPrefix = prefix
        } else if options.registration == .none {
            accountPrefix = "bench"
        } else {
            // Fresh names each run, so servers that keep accounts (Prosody, ejabberd) start clean.
            // The hyphen keeps them from looking like catroom's key-derived ids.
            accountPrefix = "b" + randomLetters(6) + "-"
        }
    }

    /// Runs the chosen scenarios in order and reports on each.
    public func run() async throws -> ServerBenchmarkReport {
        let problems = options.problems()
        guard problems.isEmpty else { throw ServerBenchmarkError.invalidOptions(problems) }
        let openFiles = raiseOpenFileLimit()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: options.clientThreads)
        var tls: NIOSSLContext?
        if options.tls != .none {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none  // a benchmark against loopback pins nothing
            tls = try NIOSSLContext(configuration: configuration)
        }
        let load = LoadRun(options: options, accountPrefix: accountPrefix, runTag: randomLetters(6), group: group, tls: tls)
        var scenarios: [ServerBenchmarkReport.Scenario] = []
        for scenario in options.scenarios {
            switch scenario {
            case .throughput: scenarios.append(await load.throughput())
            case .latency: scenarios.append(await load.latency())
            case .idle: scenarios.append(await load.idle())
            }
        }
        try? await group.shutdownGracefully()
        let target = ServerBenchmarkReport.Target(
            host: options.host, port: options.port, domain: options.domain, roomDomain: options.resolvedRoomDomain,
            tls: options.tls.rawValue, authentication: options.authentication.rawValue, registration: options.registration.rawValue,
            accountPrefix: accountPrefix,
            sourceAddresses: options.sourceAddresses, clientThreads: options.clientThreads, serverPID: options.serverPID,
            openFileLimit: openFiles)
        return ServerBenchmarkReport(target: target, scenarios: scenarios)
    }
}

/// Lowercase letters from libsodium's CSPRNG, for names that must not collide between runs.
func randomLetters(_ count: Int) -> String {
    let alphabet = Array("abcdefghijklmnopqrstuvwxyz")
    return String(randomBytes(count: count).map { alphabet[Int($0) % alphabet.count] })
}

/// One run of the benchmark: the event loops, the TLS context and the connections' shared progress.
struct LoadRun: Sendable {
    let options: ServerBenchmarkOptions
    let accountPrefix: String
    /// Part of every room name, so rooms of earlier runs never get in the way.
    let runTag: String
    let group: MultiThreadedEventLoopGroup
    let tls: NIOSSLContext?
    let progress = RunProgress()

    /// How account `n` logs in.
    func plan(account n: Int, scenario: String) -> StreamNegotiation.Plan {
        var identity: IdentityKeyPair?
        // Each scenario registers its own accounts; existing ones (`--register none`) are shared.
        var username = options.registration == .none ? "\(accountPrefix)\(n)" : "\(accountPrefix)\(scenario)\(n)"
        if options.registration == .catroomKey {
            let key = IdentityKeyPair.generate()
            identity = key
            username = key.publicKey.accountID
        }
        return StreamNegotiation.Plan(
            domain: options.domain, tls: options.tls, authentication: options.authentication, registration: options.registration,
            username: username, password: options.password, identity: identity)
    }

    /// Starts a scenario: its deadline from `--timeout`, and no errors left from the one before.
    func startScenario() -> NIODeadline {
        let deadline = NIODeadline.now() + .nanoseconds(Int64(options.timeoutSeconds * 1e9))
        _ = progress.takeErrors()
        return deadline
    }

    // MARK: - Connections

    /// Connects connection `index`, logs in as account `index` and binds a resource.
    func connect(index: Int, scenario: String, sendsPresence: Bool, deadline: NIODeadline) async throws -> LoadConnection {
        let loop = group.next()
        let box = NIOLoopBoundBox.makeEmptyBox(valueType: BenchConnection.self, eventLoop: loop)
        let login = loop.makePromise(of: String.self)
        let plan = plan(account: index, scenario: scenario)
        let (tls, progress, direct) = (tls, progress, options.tls == .direct)
        var bootstrap = ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if direct, let tls { try pipeline.addHandler(NIOSSLClientHandler(context: tls, serverHostname: nil)) }
                    let handler = BenchConnection(
                        index: index, plan: plan, tls: tls, progress: progress, sendsPresence: sendsPresence, login: login)
                    try pipeline.addHandler(handler)
                    box.value = handler
                }
            }
        if options.sourceAddresses > 1 {
            // 127.0.0.1 … 127.0.0.N in turn: per-address limits see N hosts.
            bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: "127.0.0.\(index % options.sourceAddresses + 1)", port: 0))
        }
        let timeout = loop.scheduleTask(deadline: deadline) {
            login.fail(ServerBenchmarkError.connectionFailed("login timed out"))
        }
        defer { timeout.cancel() }
        let channel: Channel
        do {
            channel = try await bootstrap.connect(host: options.host, port: options.port).get()
        } catch {
            progress.record("connect failed: \(BenchConnection.describe(error))")
            login.fail(error)
            throw error
        }
        do {
            _ = try await login.futureResult.get()
        } catch {
            if NIODeadline.now() >= deadline { progress.record("login timed out") }
            channel.close(promise: nil)
            throw error
        }
        return LoadConnection(index: index, channel: channel, handler: box, nick: plan.username)
    }

    /// Logs in `count` connections with at most `--concurrency` logins in flight.
    /// Returns them in index order, with the failures and the time of the last login.
    func connectAll(count: Int, scenario: String, sendsPresence: Bool, deadline: NIODeadline) async -> (connections: [LoadConnection], failures: Int, lastLogin: UInt64) {
        await withTaskGroup(of: LoadConnection?.self) { group in
            var next = 0
            var connections: [LoadConnection] = []
            connections.reserveCapacity(count)
            var failures = 0
            var lastLogin: UInt64 = 0
            func startNext() {
                let index = next
                next += 1
                group.addTask {
                    try? await connect(index: index, scenario: scenario, sendsPresence: sendsPresence, deadline: deadline)
                }
            }
            for _ in 0..<min(options.concurrency, count) { startNext() }
            while let result = await group.next() {
                if let result {
                    connections.append(result)
                    lastLogin = monotonicNanoseconds()
                } else {
                    failures += 1
                }
                if next < count {
                    if NIODeadline.now() < deadline {
                        startNext()
                    } else {
                        failures += count - next
                        next = count
                    }
                }
            }
            connections.sort { $0.index < $1.index }
            return (connections, failures, lastLogin)
        }
    }

    /// Closes every connection, waiting a few seconds at most for the closes to finish.
    func closeAll(_ connections: [LoadConnection]) async {
        let politely = options.closePolitely
        let futures = connections.map { $0.flatSubmit { $0.close(politely: politely) } }
        _ = await settle(futures, by: .now() + .seconds(10))
    }

    // MARK: - Measuring

    /// Server, generator and machine at one instant.
    struct Snapshot {
        let server: ProcessSample?
        let generator: ProcessSample
        let machineBusy: Double?
    }

    func snapshot() -> Snapshot {
        Snapshot(
            server: options.serverPID.flatMap(ProcessSample.read(pid:)), generator: .current(),
            machineBusy: ProcessSample.machineBusySeconds())
    }

    /// Fills in the report's resource usage between two snapshots.
    func record(from before: Snapshot, to after: Snapshot, in report: inout ServerBenchmarkReport.Scenario) {
        report.server = Self.usage(before.server, after.server)
        report.generator = Self.usage(before.generator, after.generator)
        if let server = report.server, let start = before.machineBusy, let end = after.machineBusy {
            report.otherProcessesCPUSeconds = max(0, end - start - server.cpuSeconds - report.generator.cpuSeconds)
        }
    }

    static func usage(_ before: ProcessSample?, _ after: ProcessSample?) -> ServerBenchmarkReport.ResourceUsage? {
        guard let before, let after else { return nil }
        return usage(before, after)
    }

    static func usage(_ before: ProcessSample, _ after: ProcessSample) -> ServerBenchmarkReport.ResourceUsage {
        .init(cpuSeconds: after.cpuSeconds - before.cpuSeconds, rssBeforeKiB: before.rssKiB, rssAfterKiB: after.rssKiB)
    }

    /// Polls `condition` until it holds or `deadline` passes; true if it held.
    func wait(until deadline: NIODeadline, for condition: () -> Bool) async -> Bool {
        while !condition() {
            guard NIODeadline.now() < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return true
    }

    /// Sleeps until `instant`, but not past `deadline`.
    func sleep(until instant: NIODeadline, deadline: NIODeadline) async {
        let target = min(instant, deadline)
        let nanoseconds = (target - .now()).nanoseconds
        if nanoseconds > 0 { try? await Task.sleep(for: .nanoseconds(nanoseconds)) }
    }

    /// The results of all `futures`, or nil if they did not all complete by `deadline`.
    func settle<T: Sendable>(_ futures: [EventLoopFuture<T>], by deadline: NIODeadline) async -> [Result<T, Error>]? {
        guard let loop = futures.first?.eventLoop else { return [] }
        let promise = loop.makePromise(of: [Result<T, Error>].self)
        EventLoopFuture.whenAllComplete(futures, on: loop).cascade(to: promise)
        let timer = loop.scheduleTask(deadline: deadline) {
            promise.fail(ServerBenchmarkError.connectionFailed("timed out"))
        }
        defer { timer.cancel() }
        return try? await promise.futureResult.get()
    }

    /// catroom's limits a scenario needs, beside its defaults.
    func catroomLimits(connections: Int, occupants: Int? = nil, stanzaRate: Double? = nil, measuredRate: Bool = false) -> [ServerBenchmarkReport.LimitNeed] {
        let perAddress = Double((connections + options.sourceAddresses - 1) / options.sourceAddresses)
        let defaults = ServerConfiguration.Limits()
        let total = Double(connections)
        var needs: [ServerBenchmarkReport.LimitNeed] = [
            .init(flag: "max-connections", needed: total, catroomDefault: Double(defaults.maxConnections), measured: false),
            .init(flag: "connections-per-address", needed: perAddress, catroomDefault: Double(defaults.connectionsPerAddress), measured: false),
            .init(flag: "connection-attempts-per-minute", needed: perAddress, catroomDefault: Double(defaults.connectionAttemptsPerMinute), measured: false),
        ]
        if options.registration != .none {
            needs.append(.init(flag: "registrations-per-minute", needed: perAddress, catroomDefault: Double(defaults.registrationsPerMinute), measured: false))
            needs.append(.init(flag: "total-registrations-per-minute", needed: total, catroomDefault: Double(defaults.totalRegistrationsPerMinute), measured: false))
            needs.append(.init(flag: "max-accounts", needed: total, catroomDefault: Double(defaults.maxAccounts), measured: false))
        }
        if let occupants {
            needs.append(.init(flag: "max-occupants", needed: Double(occupants), catroomDefault: Double(defaults.maxOccupants), measured: false))
        }
        if let stanzaRate {
            needs.append(.init(flag: "stanza-rate", needed: (stanzaRate * 10).rounded() / 10, catroomDefault: defaults.stanzasPerSecond, measured: measuredRate))
        }
        return needs
    }
}

/// A logged-in connection as the benchmark holds it: the channel, and its handler on its event loop.
struct LoadConnection: Sendable {
    let index: Int
    let channel: Channel
    let handler: NIOLoopBoundBox<BenchConnection?>
    /// The room nick: the account name (the key-derived id with catroom-key registration).
    let nick: String

    func submit<T: Sendable>(_ body: @escaping @Sendable (BenchConnection) -> T) -> EventLoopFuture<T> {
        let handler = handler
        return channel.eventLoop.submit {
            guard let connection = handler.value else { throw ServerBenchmarkError.connectionFailed("not connected") }
            return body(connection)
        }
    }

    func flatSubmit<T: Sendable>(_ body: @escaping @Sendable (BenchConnection) -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        let handler = handler
        let loop = channel.eventLoop
        return loop.flatSubmit {
            guard let connection = handler.value else { return loop.makeFailedFuture(ServerBenchmarkError.connectionFailed("not connected")) }
            return body(connection)
        }
    }

    func execute(_ body: @escaping @Sendable (BenchConnection) -> Void) {
        let handler = handler
        channel.eventLoop.execute { handler.value.map(body) }
    }
}
