import CatroomClient
import Foundation

/// Writes to a profile in order, on a task of its own, so that the room's receive path
/// only enqueues: the known members' changes (`KnownMembers(contacts:persist:)`), history
/// entries and the hourly retention sweep.
public final class ProfileWriter: Sendable {
    /// One write, in the order submitted.
    public enum Write: Sendable {
        case contact(KnownMembers.Change)
        case history(HistoryEntry, Conversation)
        /// Deletes the history older than the settings keep, as of this time.
        case prune(Date)
        /// Called once every write before it is done (`flushed()`).
        case barrier(@Sendable () -> Void)
    }

    private let continuation: AsyncStream<Write>.Continuation
    private let task: Task<Void, Never>

    /// `failed` hears of each write that did not happen (the chat goes on without it).
    public init(profile: Profile, failed: @escaping @Sendable (ProfileError) -> Void) {
        let (writes, continuation) = AsyncStream.makeStream(of: Write.self)
        self.continuation = continuation
        task = Task.detached {
            for await write in writes {
                do throws(ProfileError) {
                    switch write {
                    case .contact(let change): try profile.apply(change)
                    case .history(let entry, let conversation): try profile.appendHistory(entry, to: conversation)
                    case .prune(let now): try profile.pruneHistory(now: now)
                    case .barrier(let done): done()
                    }
                } catch {
                    failed(error)
                }
            }
        }
    }

    /// Queues `change`; never blocks.
    public func submit(_ change: KnownMembers.Change) {
        continuation.yield(.contact(change))
    }

    /// Queues `write`; never blocks.
    public func submit(_ write: Write) {
        continuation.yield(write)
    }

    /// Returns once every write submitted before is done (at once after `finish()`): call it
    /// before reading what they wrote.
    public func flushed() async {
        await withCheckedContinuation { (written: CheckedContinuation<Void, Never>) in
            if case .terminated = continuation.yield(.barrier { written.resume() }) { written.resume() }
        }
    }

    /// Returns once every write submitted before is done: call it before exiting.
    public func finish() async {
        continuation.finish()
        await task.value
    }
}
