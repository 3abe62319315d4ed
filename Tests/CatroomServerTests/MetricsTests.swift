@_spi(Testing) import CatroomServer
import CatroomTesting
import Testing

/// `/metrics` counts each refusal under its reason and each limit under its key's name.
@Suite struct MetricsTests {
    /// The value of the sample `name` (with its labels) in Prometheus text.
    func value(_ name: String, in text: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    @Test func connectionLimitsAreCountedByName() async throws {
        let server = try await TestServer.start {
            $0.metrics = ListenAddress(host: "127.0.0.1", port: 0)
            $0.limits.connectionsPerAddress = 1
            $0.limits.maxConnections = 2
        }
        let first = try await connect(server.port, from: "127.0.0.40")
        // A second from the same address, then a third from a fresh one past the server's cap.
        let sameAddress = try await TestClient.connect(port: server.port, from: "127.0.0.40")
        #expect(try await sameAddress.receiveClose()?.errorCondition == "policy-violation")
        let second = try await connect(server.port, from: "127.0.0.41")
        let pastCap = try await TestClient.connect(port: server.port, from: "127.0.0.42")
        #expect(try await pastCap.receiveClose()?.errorCondition == "resource-constraint")

        let text = try #require(server.metricsText())
        #expect(value(#"catroom_limit_hits_total{limit="connections_per_address"}"#, in: text) == 1)
        #expect(value(#"catroom_limit_hits_total{limit="max_connections"}"#, in: text) == 1)
        #expect(value(#"catroom_limit_hits_total{limit="connection_attempts_per_minute"}"#, in: text) == 0)
        #expect(value(#"catroom_refusals_total{reason="connection_limit"}"#, in: text) == 2)
        #expect(value("catroom_connections", in: text) == 2)
        for client in [first, second] { await client.close() }
        await server.shutdown()
    }

    @Test func noMetricsUnlessAsked() async throws {
        let server = try await TestServer.start()
        #expect(server.metricsText() == nil)
        #expect(server.metricsPort == nil)
        await server.shutdown()
    }
}
