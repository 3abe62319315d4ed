import CSodium

/// Secret key material: fixed bytes that are zeroed when the last reference goes away.
///
/// Immutable after creation, so sharing a reference never lets one holder change
/// another's key. Comparison is constant-time. The bytes never pass through
/// `String`, and `description` never prints them.
public final class SecretBytes: @unchecked Sendable {
    private let storage: UnsafeMutableRawBufferPointer

    /// The number of bytes held.
    public var count: Int { storage.count }

    /// Allocates `count` bytes and lets `initializer` fill all of them.
    public init(count: Int, initializer: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        // Filled before `storage` is set: if the initializer throws, deinit does not run
        // and the buffer is released here, once.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 16)
        do {
            try initializer(buffer)
        } catch {
            Self.wipe(buffer)
            buffer.deallocate()
            throw error
        }
        storage = buffer
    }

    /// Copies `bytes`; the caller remains responsible for wiping its own copy.
    public convenience init(copying bytes: some Collection<UInt8>) {
        self.init(count: bytes.count) { buffer in
            _ = buffer.initializeMemory(as: UInt8.self, from: bytes)
        }
    }

    deinit {
        Self.wipe(storage)
        storage.deallocate()
    }

    private static func wipe(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        sodium_memzero(base, buffer.count)
    }

    /// Gives read access to the bytes; the pointer must not escape.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(storage))
    }

    /// A new secret made of `range` of these bytes.
    public func slice(_ range: Range<Int>) -> SecretBytes {
        precondition(range.lowerBound >= 0 && range.upperBound <= count)
        return SecretBytes(count: range.count) { buffer in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: storage[range]))
        }
    }

    /// Copies the bytes out. For encoders and tests: the copy is not wiped.
    public var unprotectedBytes: [UInt8] { Array(storage) }
}

extension SecretBytes: Equatable {
    /// Constant-time comparison (`sodium_memcmp`).
    public static func == (lhs: SecretBytes, rhs: SecretBytes) -> Bool { constantTimeEqual(lhs, rhs) }
}

extension SecretBytes: RawBytes {}

extension SecretBytes: CustomStringConvertible {
    public var description: String { "SecretBytes(\(count) bytes)" }
}

/// Constant-time equality of two byte strings (`sodium_memcmp`); lengths are not secret.
public func constantTimeEqual(_ a: some RawBytes, _ b: some RawBytes) -> Bool {
    a.withUnsafeBytes { a in
        b.withUnsafeBytes { b in
            guard a.count == b.count else { return false }
            if a.count == 0 { return true }
            return sodium_memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0
        }
    }
}
