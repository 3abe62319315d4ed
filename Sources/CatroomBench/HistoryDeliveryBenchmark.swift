import CatroomClient
import CatroomCrypto
import CatroomProfile
import CatroomServer
import Foundation

/// Delivery latency with history on and off, side by side in one run: two in-process
/// clients on an in-process server (TLS, pinned), one message in flight at a time, from
/// the sender's `perform` to the receiver's event loop having handled it, which with
/// history on also hands it to the profile's writer, as `catroom join` does. The modes
/// alternate in rounds, so both see the same load.
struct HistoryDeliveryBenchmark {
    let messages: Int
    let round = 10

    /// Per-message latencies (nanoseconds), history off then on; `messages` rounded up to whole rounds.
    func run(profile: Profile) async throws -> (off: Measurement, on: Measurement) {
        let server = try await JoinBenchmark.startServer(occupants: 2)
        let setup = JoinBenchmark()
        let receiver = CatroomClient(configuration: setup.configuration(server, room: "history", nick: "receiver"))
        let sender = CatroomClient(configuration: setup.configuration(server, room: "history", nick: "sender"))
        let receiverTask = Task { await receiver.run() }
        guard await JoinBenchmark.ready(receiver, within: .seconds(30)) != nil else { throw JoinBenchmark.Failure("the receiver never got ready") }
        let senderTask = Task { await sender.run() }
        guard await JoinBenchmark.ready(sender, within: .seconds(30), expecting: 1) != nil else { throw JoinBenchmark.Failure("the sender never got ready") }

        let writer = ProfileWriter(profile: profile) { _ in }
        let recorder = HistoryRecorder(writer: writer)
        let mode = HistoryMode()
        let (arrivals, arrived) = AsyncStream.makeStream(of: String.self)
        let room = setup.configuration(server, room: "history", nick: "receiver").roomAddress
        let loop = Task {
            for await update in receiver.events {
                let event = update.event
                // ChatSession's loop: record (when on), then show.
                if mode.on { recorder.record(event, room: room) }
                if case .message(let message) = event { arrived.yield(message.text) }
            }
            arrived.finish()
        }
        // Every wait ends: a message that never arrives ends the run instead.
        let watchdog = Task {
            try? await Task.sleep(for: .seconds(300))
            arrived.finish()
        }
        var iterator = arrivals.makeAsyncIterator()
        func deliver(_ text: String) async throws -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = await sender.perform(.say(text))
            while true {
                guard let got = await iterator.next() else { throw JoinBenchmark.Failure("\(text) never arrived") }
                if got == text { return Double(DispatchTime.now().uptimeNanoseconds - start) }
            }
        }
        _ = try await deliver("warm-up")
        var off: [Double] = [], on: [Double] = []
        while on.count < messages {
            mode.on = false
            for _ in 0..<round { off.append(try await deliver("off \(off.count)")) }
            mode.on = true
            for _ in 0..<round { on.append(try await deliver("on \(on.count)")) }
        }
        watchdog.cancel()
        await sender.leave()
        await receiver.leave()
        _ = await senderTask.value
        _ = await receiverTask.value
        loop.cancel()
        await writer.finish()
        await server.shutdown()
        try? FileManager.default.removeItem(atPath: server.configuration.dataDirectory)
        return (Measurement(samples: off.sorted()), Measurement(samples: on.sorted()))
    }
}

/// Whether the receiver's loop records, switched between rounds.
private final class HistoryMode: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var on: Bool {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}
