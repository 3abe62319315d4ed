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

    func roomParameters() -> [ServerBenchmarkReport.Parameter] {
        [
            .init(name: "rooms", value: String(options.rooms)),
            .init(name: "occupants", value: String(options.occupants)),
            .init(name: "payload bytes", value: String(options.payloadBytes)),
        ]
    }
}
