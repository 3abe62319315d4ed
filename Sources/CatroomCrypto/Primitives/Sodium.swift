import CSodium

/// libsodium's one-time initialisation.
///
/// Every entry point that calls libsodium goes through `Sodium.ready` first; the
/// static initialiser runs `sodium_init()` exactly once, thread-safely.
enum Sodium {
    static let ready: Void = {
        // sodium_init returns 0 on success, 1 if already initialised, -1 on failure.
        // Without a working RNG nothing in this module is safe to run: trap.
        precondition(sodium_init() >= 0, "libsodium failed to initialise")
    }()

    /// The linked libsodium's version string, for start-up logs.
    static var version: String {
        _ = ready
        return String(cString: sodium_version_string())
    }
}

/// Returns libsodium's version string and makes sure it is initialised.
public func sodiumVersion() -> String { Sodium.version }

/// Overwrites `buffer` with zeros in a way the compiler cannot elide (`sodium_memzero`).
func zero(_ buffer: UnsafeMutableRawBufferPointer) {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return }
    sodium_memzero(base, buffer.count)
}
