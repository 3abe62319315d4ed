import CSodium

/// Where private keys, payload keys and message ids come from.
///
/// Production code uses `SystemEntropy` (libsodium's CSPRNG). The only other
/// source is for known-answer tests, which script every random byte so that an
/// independent implementation can reproduce the vectors.
public protocol EntropySource {
    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer)
}

/// libsodium's `randombytes_buf`: the operating system's CSPRNG.
public struct SystemEntropy: EntropySource, Sendable {
    public init() { _ = Sodium.ready }

    public mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        randombytes_buf(base, buffer.count)
    }
}

extension EntropySource {
    /// `count` fresh secret bytes.
    mutating func secret(count: Int) -> SecretBytes {
        SecretBytes(count: count) { fill($0) }
    }

    /// `count` fresh public bytes, such as a message id.
    mutating func bytes(count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { fill($0) }
        return bytes
    }
}

/// `count` fresh bytes from libsodium's CSPRNG in a plain array, which is never wiped:
/// for stream ids, nonces, salts and values that leave as text anyway. Keys come
/// from an `EntropySource` as `SecretBytes`.
public func randomBytes(count: Int) -> [UInt8] {
    var entropy = SystemEntropy()
    return entropy.bytes(count: count)
}
