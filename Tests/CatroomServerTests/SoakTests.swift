import CatroomProtocol
import CatroomServer
import CatroomTesting
import Foundation
import Testing

/// A bounded leak soak (SECURITY-CASES SR-07, AR-08): many cycles of connect, register,
/// publish, join, talk and leave (half of them by dropping the connection) leave no
/// account, session, room or file descriptor behind.
@Suite struct SoakTests {
    static func openDescriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
    }

    @Test func cyclesLeaveNothingBehind() async throws {
        let server = try await TestServer.start {
            $0.limits.registrationsPerMinute = 10_000
            $0.limits.connectionAttemptsPerMinute = 10_000
        }
        let room = "soak@rooms.localhost"
        var baseline = 0
        for cycle in 0..<61 {
            // The first cycle starts the client side's event loops: count from after it.
            if cycle == 1 { baseline = Self.openDescriptors() }
            let (client, jid, identity) = try await TestClient.login(port: server.port)
            try await client.publishBundle(of: identity, oneTimePreKeys: 3)
            try await client.send("<presence to='\(room)/\(jid.localpart!)'/>")
            _ = try await client.receive(until: { $0.name == "message" })
            try await client.send("<message to='\(room)' type='groupchat'><encrypted xmlns='urn:catroom:e2e:0' id='AAAAAAAAAAAAAAAAAAAAAA==' commitment='AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='><payload>AA==</payload></encrypted></message>")
            _ = try await client.receive()
            if cycle % 2 == 0 {
                try await client.send("</stream:stream>")
                _ = try await client.receiveClose()
            }
            await client.close()
        }
        try await waitUntil {
            let counts = server.statistics
            return counts.connections == 0 && counts.accounts == 0 && counts.sessions == 0 && counts.rooms == 0
        }
        // Sockets close asynchronously; allow a little slack for ones still closing.
        try await waitUntil { Self.openDescriptors() <= baseline + 4 }
        await server.shutdown()
    }
}
