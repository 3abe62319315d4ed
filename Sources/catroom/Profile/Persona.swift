import CatroomClient
import CatroomCrypto
import CatroomProfile
import Foundation

/// Who a chat is: its identity key and the members known with it. Ephemeral by default;
/// with a profile both come from it, and every change of the known members is written
/// back off the receive path (`ProfileWriter`).
final class Persona: Sendable {
    let identity: IdentityKeyPair
    let known: KnownMembers
    /// Held, with its lock, for the life of the process.
    private let profile: Profile?
    private let writer: ProfileWriter?
    private let failures: FailureSink

    /// A new identity that dies with the process; nothing is written.
    init() {
        identity = .generate()
        known = KnownMembers()
        profile = nil
        writer = nil
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
    }

    /// Where failed profile writes are told (the chat's output).
    func reportFailures(to report: @escaping @Sendable (String) -> Void) { failures.target = report }

    /// Waits until every change is written; the profile stays locked until the process ends.
    func finish() async { await writer?.finish() }
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
