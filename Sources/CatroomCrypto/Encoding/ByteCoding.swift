/// Appends the fixed, big-endian encodings every catroom format uses.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 64) { bytes.reserveCapacity(capacity) }

    mutating func append(_ byte: UInt8) { bytes.append(byte) }

    /// Zeroes the written bytes in place, for a writer that held secrets.
    mutating func wipe() { bytes.withUnsafeMutableBytes { zero($0) } }

    mutating func append(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    mutating func append(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift)))
        }
    }

    mutating func append(_ raw: some RawBytes) {
        raw.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }

    /// A string's UTF-8 bytes behind a one-byte length; the caller has checked the length.
    mutating func appendShortString(_ string: String) {
        let utf8 = Array(string.utf8)
        precondition(utf8.count <= Int(UInt8.max))
        append(UInt8(utf8.count))
        append(utf8)
    }

    /// A string's UTF-8 bytes behind a two-byte length.
    mutating func appendString(_ string: String) {
        let utf8 = Array(string.utf8)
        precondition(utf8.count <= Int(UInt16.max))
        append(UInt16(utf8.count))
        append(utf8)
    }
}

/// Reads what `ByteWriter` writes, in place; any overrun is `CryptoError.malformed`.
///
/// It borrows the buffer, so secrets are copied only into `SecretBytes`.
struct ByteReader {
    private let buffer: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    var remaining: Int { buffer.count - offset }

    private mutating func take(_ count: Int) throws -> UnsafeRawBufferPointer {
        guard count >= 0, count <= remaining else { throw CryptoError.malformed }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + count])
    }

    mutating func read(count: Int) throws -> [UInt8] { try Array(take(count)) }

    mutating func readSecret(count: Int) throws -> SecretBytes { try SecretBytes(copying: take(count)) }

    mutating func readByte() throws -> UInt8 { try take(1)[0] }

    mutating func readUInt16() throws -> UInt16 {
        let b = try take(2)
        return UInt16(b[0]) << 8 | UInt16(b[1])
    }

    mutating func readUInt32() throws -> UInt32 {
        try take(4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// All bytes left.
    mutating func readRest() -> [UInt8] {
        defer { offset = buffer.count }
        return Array(buffer[offset...])
    }

    func expectEnd() throws {
        guard remaining == 0 else { throw CryptoError.malformed }
    }
}
