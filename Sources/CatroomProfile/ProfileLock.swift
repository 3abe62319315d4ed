import Foundation

/// The one-process-per-profile rule: an advisory `flock(LOCK_EX | LOCK_NB)` on NAME.lock,
/// held until this value is released (or the process ends, however it ends).
final class ProfileLock: Sendable {
    private let descriptor: Int32

    /// Throws `inUse` when another process holds it.
    init(path: String, name: String) throws(ProfileError) {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .storage(name: name, detail: "cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let error = errno
            close(descriptor)
            if error == EWOULDBLOCK { throw .inUse(name) }
            throw .storage(name: name, detail: "cannot lock \(path): \(String(cString: strerror(error)))")
        }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }
}
