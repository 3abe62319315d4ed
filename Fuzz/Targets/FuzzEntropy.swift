import CatroomCrypto

/// Reproducible "randomness" for the keys and messages the crypto targets set up:
/// value i is SHA-256(label || i), so every run and every seed file agree.
struct FuzzEntropy: EntropySource {
    let label: String
    private var counter = 0

    init(label: String) { self.label = label }

    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        var filled = 0
        while filled < buffer.count {
            let block = SHA256.hash(Array("\(label) \(counter)".utf8))
            counter += 1
            for byte in block where filled < buffer.count {
                buffer[filled] = byte
                filled += 1
            }
        }
    }

    mutating func bytes(count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { fill($0) }
        return bytes
    }
}
