@testable import CatroomCrypto
import Testing

/// `ByteWriter.wipe()` zeroes the writer's own buffer, the one that held the secrets.
@Suite struct ByteWriterTests {
    @Test func wipeZeroesTheBufferInPlace() {
        var writer = ByteWriter(capacity: 8)
        writer.append(UInt32(0xDEAD_BEEF))
        let address = writer.bytes.withUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
        writer.wipe()
        #expect(writer.bytes == [0, 0, 0, 0])
        #expect(writer.bytes.withUnsafeBytes { UInt(bitPattern: $0.baseAddress) } == address, "not a copy")
    }
}
