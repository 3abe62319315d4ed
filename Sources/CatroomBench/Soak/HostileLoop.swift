import CatroomServer
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// The soak's hostile loop: raw connections of the shapes the abuse tests use
/// (Tests/CatroomServerTests/AbuseTests.swift), one after another, from 127.0.3.x and
/// 127.0.4.x so the per-address limits of the chatting clients' addresses are untouched.
/// Each must be refused: the server closes the connection (or fails the login).
final class HostileLoop: Sendable {
    enum Shape: String, CaseIterable, Sendable, Codable {
        case doctype, comment, invalidUTF8, httpRequest, tlsOnPlainPort, deepNesting, oversizedStanza
        case halfOpen, connectionFlood, badSASL
    }

    let serverPort: Int
    let group: MultiThreadedEventLoopGroup
    /// For the bad-SASL login over STARTTLS; verifies nothing (the login is meant to fail).
    let tls: NIOSSLContext
    let counts = Mutex<[Shape: (tried: Int, refused: Int)]>([:])

    init(serverPort: Int, group: MultiThreadedEventLoopGroup) throws {
        self.serverPort = serverPort
        self.group = group
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        tls = try NIOSSLContext(configuration: configuration)
    }

    static let header = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>"

    /// What the report shows per shape.
    func results() -> [SoakReport.Hostile] {
        counts.withLock { counts in
            Shape.allCases.compactMap { shape in
                counts[shape].map { SoakReport.Hostile(shape: shape.rawValue, tried: $0.tried, refused: $0.refused) }
            }
        }
    }

    /// Every shape in turn, one every `pause`, until `deadline` or `maxRounds` rounds.
    func run(until deadline: ContinuousClock.Instant, pause: Duration, maxRounds: Int = 100_000) async {
        var attempt = 0
        for _ in 0..<maxRounds {
            for shape in Shape.allCases {
                guard ContinuousClock.now < deadline, !Task.isCancelled else { return }
                attempt += 1
                let refused = await send(shape, from: "127.0.3.\(attempt % 200 + 1)", flood: "127.0.4.\(attempt % 200 + 1)")
                counts.withLock { $0[shape, default: (0, 0)].tried += 1; if refused { $0[shape, default: (0, 0)].refused += 1 } }
                try? await Task.sleep(for: pause)
            }
        }
    }

    /// Sends one hostile connection's worth; true if the server refused it.
    func send(_ shape: Shape, from source: String, flood: String) async -> Bool {
        let header = Array(Self.header.utf8)
        switch shape {
        case .doctype:
            return await closed(after: header + Array("<!DOCTYPE lol [<!ENTITY lol 'lol'><!ENTITY lol2 '&lol;&lol;&lol;&lol;'>]><lol>&lol2;</lol>".utf8), from: source)
        case .comment:
            return await closed(after: header + Array("<!-- a comment --><message/>".utf8), from: source)
        case .invalidUTF8:
            return await closed(after: header + Array("<message><body>".utf8) + [0xC0, 0xAF] + Array("</body></message>".utf8), from: source)
        case .httpRequest:
            return await closed(after: Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8), from: source)
        case .tlsOnPlainPort:
            return await closed(after: [0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03], from: source)
        case .deepNesting:
            return await closed(after: header + Array(String(repeating: "<a>", count: 100_000).utf8), from: source)
        case .oversizedStanza:
            let tooBig = ServerConfiguration.Limits().maxStanzaBytes + 4096
            return await closed(after: header + Array("<message><body>".utf8) + [UInt8](repeating: 0x41, count: tooBig), from: source)
        case .halfOpen:
            // Never finishes its header: the pre-authentication deadline must cut it.
            return await closed(after: Array("<stream:".utf8), from: source, within: .seconds(SoakServer.preAuthenticationSeconds + 15))
        case .connectionFlood:
            return await connectionFlood(from: flood)
        case .badSASL:
            return await badSASL()
        }
    }

    /// Connects from `source`, writes `bytes`, and waits for the server to close the connection.
    func closed(after bytes: [UInt8], from source: String, within limit: Duration = .seconds(15)) async -> Bool {
        guard let (channel, _) = try? await connect(from: source) else { return false }
        channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil)
        return await closes(channel, within: limit)
    }

    /// Two more connections than the per-address cap allows, each opening a stream: two are
    /// refused with a stream error and closed, while the admitted ones stay open (AbuseTests'
    /// connection flood). Which two depends on the order the server's event loops admit
    /// them, so any two will do.
    func connectionFlood(from source: String) async -> Bool {
        let extra = 2
        var open: [(Channel, Counter)] = []
        for _ in 0..<(ServerConfiguration.Limits().connectionsPerAddress + extra) {
            guard let connection = try? await connect(from: source) else { continue }
            connection.0.writeAndFlush(ByteBuffer(string: Self.header), promise: nil)
            open.append(connection)
        }
        var refused = false
        for _ in 0..<100 {
            refused = open.filter { !$0.0.isActive }.count >= extra
            if refused { break }
            try? await Task.sleep(for: .milliseconds(100))
        }
        for (channel, _) in open { try? await channel.close() }
        return refused
    }

    /// SCRAM-SHA-256 over STARTTLS for an account that does not exist: the login must fail.
    func badSASL() async -> Bool {
        var options = ServerBenchmarkOptions()
        options.port = serverPort
        options.registration = .none
        options.accountPrefix = "nobody"
        options.timeoutSeconds = 20
        let run = LoadRun(options: options, accountPrefix: "nobody", runTag: "soak", group: group, tls: tls)
        let deadline = NIODeadline.now() + .seconds(20)
        guard let connection = try? await run.connect(index: 0, scenario: "soak", sendsPresence: false, deadline: deadline) else { return true }
        try? await connection.channel.close()
        return false
    }

    private func connect(from source: String) async throws -> (Channel, Counter) {
        let received = Counter()
        let channel = try await ClientBootstrap(group: group)
            .bind(to: try SocketAddress(ipAddress: source, port: 0))
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Sink(received: received)) }
            }
            .connect(host: "127.0.0.1", port: serverPort).get()
        return (channel, received)
    }

    /// Whether `channel` closes within `limit`; closes it if not.
    private func closes(_ channel: Channel, within limit: Duration) async -> Bool {
        let promise = channel.eventLoop.makePromise(of: Bool.self)
        channel.closeFuture.whenComplete { _ in promise.succeed(true) }
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(limit.components.seconds) * 1_000_000_000)) { promise.succeed(false) }
        let closed = (try? await promise.futureResult.get()) ?? false
        timer.cancel()
        if !closed { try? await channel.close() }
        return closed
    }

    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    /// Counts what the server sends and drops it.
    private final class Sink: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let received: Counter

        init(received: Counter) { self.received = received }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received.value.add(unwrapInboundIn(data).readableBytes, ordering: .relaxed)
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
    }
}
