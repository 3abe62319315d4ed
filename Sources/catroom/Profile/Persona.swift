import CatroomClient
import CatroomCrypto
import CatroomProfile
import Foundation

/// Who a chat is: its identity key and the members known with it. Ephemeral by default;
/// with a profile both come from it, and every change of the known members is written
/// back off the receive path (`ProfileWriter`), as is the history if the profile keeps it.
final class Persona: Sendable {
    /// The most stored entries shown before a conversation's live messages.
    static let scrollback = 200
    /// How often history older than the profile's keep is deleted while running.
    static let sweepInterval: Duration = .seconds(3600)

    let identity: IdentityKeyPair
    let known: KnownMembers
    /// Held, with its lock, for the life of the process.
    private let profile: Profile?
    private let writer: ProfileWriter?
    /// Set when the profile keeps history.
    private let recorder: HistoryRecorder?
    private let sweeper: Task<Void, Never>?
    private let failures: FailureSink

    /// A new identity that dies with the process; nothing is written.
    init() {
        identity = .generate()
        known = KnownMembers()
        profile = nil
        writer = nil
        recorder = nil
        sweeper = nil
        failures = FailureSink()
    }

    init(profile: Profile) {
        let failures = FailureSink()
        let writer = ProfileWriter(profile: profile) { error in failures.report("could not save to your profile: \(error)") }
        self.profile = profile
        self.writer = writer
        self.failures = failures
        identity = profile.identity
        known = KnownMembers(contacts: profile.contacts, persist: { writer.submit($0) })
        let settings = profile.settings
        recorder = settings.history ? HistoryRecorder(writer: writer, now: HistoryClock.now) : nil
        sweeper = settings.history && settings.keepSeconds != nil ? Task {
            while (try? await Task.sleep(for: Self.sweepInterval)) != nil { writer.submit(.prune(HistoryClock.now())) }
        } : nil
    }

    /// Records `event`, shown in `room` (its bare JID), when the profile keeps history.
    func record(_ event: ClientEvent, room: String) { recorder?.record(event, room: room) }

    /// The last stored entries of `conversation`, with every message recorded so far; none
    /// without history.
    func history(of conversation: Conversation) async -> [HistoryEntry] {
        guard let profile, recorder != nil else { return [] }
        await writer?.flushed()
        do {
            return try profile.history(of: conversation, limit: Self.scrollback)
        } catch {
            failures.report("could not read your history: \(error)")
            return []
        }
    }

    /// Where failed profile writes are told (the chat's output).
    func reportFailures(to report: @escaping @Sendable (String) -> Void) { failures.target = report }

    /// Waits until every change is written; the profile stays locked until the process ends.
    func finish() async {
        sweeper?.cancel()
        await writer?.finish()
    }
}

/// Failed writes, told wherever the chat shows errors once there is a chat.
private final class FailureSink: @unchecked Sendable {
    private let lock = NSLock()
    private var value: (@Sendable (String) -> Void)?

    var target: (@Sendable (String) -> Void)? {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }

    func report(_ text: String) {
        if let target { target(text) } else { FileHandle.standardError.write(Data("catroom: \(text)\n".utf8)) }
    }
}
