import CatroomClient
import CatroomCrypto
import CatroomServer
import CatroomTesting
import Foundation
import NIOConcurrencyHelpers
import Testing

/// A running client and everything it has reported so far.
final class Participant: Sendable {
    let client: CatroomClient
    private let log = NIOLockedValueBox<[ClientUpdate]>([])
    private let task: Task<Void, Never>
    private let collector: Task<Void, Never>

    init(
        server: Server, nick: String, room: String = "lobby", source: String? = nil, password: String? = nil,
        invite: InviteSecret? = nil, identity: IdentityKeyPair = .generate(), configure: (inout ClientConfiguration) -> Void = { _ in }
    ) {
        var configuration = ClientConfiguration(host: "127.0.0.1", domain: "localhost", room: room, nick: nick, trust: .insecure)
        configuration.port = server.port
        configuration.plaintext = true
        configuration.sourceAddress = source
        configuration.roomPassword = password
        configuration.invite = invite
        configuration.silentReaderSeconds = 1
        configuration.acknowledgementDelaySeconds = 0.2
        configuration.gapReportSeconds = 1
        configure(&configuration)
        let client = CatroomClient(configuration: configuration, identity: identity)
        self.client = client
        task = Task { await client.run() }
        let log = log
        collector = Task {
            for await update in client.events { log.withLockedValue { $0.append(update) } }
        }
    }

    var events: [ClientEvent] { log.withLockedValue { $0.map(\.event) } }

    /// The events of one room (its canonical address, `lobby@rooms.localhost`).
    func events(in room: String) -> [ClientEvent] { log.withLockedValue { $0.filter { $0.room == room }.map(\.event) } }

    /// Waits until an event satisfies `match` and returns it. The bound is generous: the
    /// suite runs client tests in parallel on two cores, and logins cost PBKDF2.
    @discardableResult
    func waitFor<T>(_ what: String, in room: String? = nil, timeout: Duration = .seconds(20), _ match: (ClientEvent) -> T?) async throws -> T {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < timeout {
            if let found = (room.map(events(in:)) ?? events).lazy.compactMap(match).first { return found }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw WaitTimeout(what: what, events: events)
    }

    func waitUntilReady() async throws {
        try await waitFor("ready") { if case .ready = $0 { true } else { nil } }
    }

    /// Waits until the member shown as `nick` has completed its key exchange with this one
    /// (arriving after it, or present when it joined).
    @discardableResult
    func waitForMember(_ nick: String) async throws -> MemberInfo {
        try await waitFor("\(nick) joined") { event in
            switch event {
            case .memberJoined(let m) where m.nick == nick, .memberPresent(let m) where m.nick == nick: m
            default: nil
            }
        }
    }

    /// alice, bob and carol, joined in that order, each having met the others.
    static func trio(on server: Server) async throws -> (alice: Participant, bob: Participant, carol: Participant) {
        let alice = Participant(server: server, nick: "alice")
        try await alice.waitUntilReady()
        let bob = Participant(server: server, nick: "bob")
        try await bob.waitUntilReady()
        let carol = Participant(server: server, nick: "carol")
        try await carol.waitUntilReady()
        try await alice.waitForMember("carol")
        try await bob.waitForMember("carol")
        return (alice, bob, carol)
    }

    func messages() -> [ChatMessage] {
        events.compactMap { if case .message(let message) = $0, !message.isOwn { message } else { nil } }
    }

    func waitForMessage(_ text: String) async throws -> ChatMessage {
        try await waitFor("message \(text)") { event in
            if case .message(let message) = event, !message.isOwn, message.text == text { message } else { nil }
        }
    }

    func stop() async {
        await client.leave()
        _ = await task.value
        collector.cancel()
    }

    struct WaitTimeout: Error, CustomStringConvertible {
        let what: String
        let events: [ClientEvent]
        var description: String { "timed out waiting for \(what); events: \(events)" }
    }
}
