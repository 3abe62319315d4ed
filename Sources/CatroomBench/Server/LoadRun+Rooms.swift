import NIOCore

/// Rooms for the throughput and latency scenarios (XEP-0045 §7.2).
extension LoadRun {
    /// A room and its occupants, in join order.
    struct BenchRoom: Sendable {
        let jid: String
        let occupants: [LoadConnection]
    }

    /// Logs in `--rooms` × `--occupants` connections and joins them to fresh rooms: the
    /// first occupant of each room creates it, then the others join together.
    func openRooms(scenario: String, deadline: NIODeadline) async throws -> [BenchRoom] {
        let total = options.rooms * options.occupants
        let (connections, failures, _) = await connectAll(count: total, scenario: scenario, sendsPresence: false, deadline: deadline)
        guard failures == 0 else {
            await closeAll(connections)
            throw ServerBenchmarkError.setUpFailed("\(failures) of \(total) logins failed")
        }
        let rooms = (0..<options.rooms).map { room in
            BenchRoom(
                jid: "bench-\(runTag)-\(scenario)\(room)@\(options.resolvedRoomDomain)",
                occupants: Array(connections[room * options.occupants..<(room + 1) * options.occupants]))
        }
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for room in rooms {
                    group.addTask {
                        let (jid, occupants) = (room.jid, room.occupants)
                        let creator = occupants[0]
                        try await creator.flatSubmit { $0.join(room: jid, nick: creator.nick, deadline: deadline) }.get()
                        let joins = occupants.dropFirst().map { occupant in
                            occupant.flatSubmit { $0.join(room: jid, nick: occupant.nick, deadline: deadline) }
                        }
                        for join in joins { try await join.get() }
                    }
                }
                try await group.waitForAll()
            }
        } catch {
            await closeAll(connections)
            throw ServerBenchmarkError.setUpFailed("joining the rooms failed: \(error)")
        }
        return rooms
    }

    /// `openRooms`, or nil with the failure, the errors and the generator's usage so far in `report`.
    func openRooms(scenario: String, deadline: NIODeadline, reporting report: inout ServerBenchmarkReport.Scenario) async -> [BenchRoom]? {
        let generatorStart = ProcessSample.current()
        do {
            return try await openRooms(scenario: scenario, deadline: deadline)
        } catch {
            report.failure = "\(error)"
            report.errors = progress.takeErrors()
            report.generator = LoadRun.usage(generatorStart, .current())
            return nil
        }
    }

    /// Each connection's statistics (from those answering within 10 s), then closes them all.
    func takeStatsAndClose(_ connections: [LoadConnection]) async -> [TrafficStats] {
        let stats = await settle(connections.map { $0.submit { $0.takeStats() } }, by: .now() + .seconds(10))?
            .compactMap { try? $0.get() } ?? []
        await closeAll(connections)
        return stats
    }

    func roomParameters() -> [ServerBenchmarkReport.Parameter] {
        [
            .init(name: "rooms", value: String(options.rooms)),
            .init(name: "occupants", value: String(options.occupants)),
            .init(name: "payload bytes", value: String(options.payloadBytes)),
        ]
    }
}
