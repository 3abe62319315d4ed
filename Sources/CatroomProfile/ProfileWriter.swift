import CatroomClient

/// Writes the known members' changes to a profile in order, on a task of its own, so that
/// the room's receive path only enqueues (`KnownMembers(contacts:persist:)`).
public final class ProfileWriter: Sendable {
    private let continuation: AsyncStream<KnownMembers.Change>.Continuation
    private let task: Task<Void, Never>

    /// `failed` hears of each write that did not happen (the chat goes on without it).
    public init(profile: Profile, failed: @escaping @Sendable (ProfileError) -> Void) {
        let (changes, continuation) = AsyncStream.makeStream(of: KnownMembers.Change.self)
        self.continuation = continuation
        task = Task.detached {
            for await change in changes {
                do throws(ProfileError) {
                    try profile.apply(change)
                } catch {
                    failed(error)
                }
            }
        }
    }

    /// Queues `change`; never blocks.
    public func submit(_ change: KnownMembers.Change) {
        continuation.yield(change)
    }

    /// Returns once every change submitted before is written: call it before exiting.
    public func finish() async {
        continuation.finish()
        await task.value
    }
}
