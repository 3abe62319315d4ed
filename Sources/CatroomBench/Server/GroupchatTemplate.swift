import CatroomProtocol
import NIOCore

/// The groupchat message the load generator sends, serialised once per room: only
/// the stanza id changes from message to message, and it is written as digits
/// straight into the outgoing buffer.
///
///     <message to='room@service' type='groupchat' id='cb<sender>.<sequence>.<sent-ns>'>
///       <encrypted xmlns='urn:catroom:e2e:0' id='…' commitment='…'><payload>…</payload></encrypted>
///     </message>
///
/// catroom refuses groupchat without `<encrypted/>` (CR-0005 §5.4); other servers
/// relay it as an unknown extension. XEP-0045 §7.4 reflects a groupchat message to
/// its sender with its id, so the id says who sent it, which of theirs it was, and when.
struct GroupchatTemplate: Sendable {
    private let prefix: [UInt8]
    private let suffix: [UInt8]

    init(room: String, payloadBytes: Int) {
        prefix = Array("<message to='\(room)' type='groupchat' id='\(MessageID.marker)".utf8)
        // Opaque bytes that look like ciphertext; the server never reads them.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let payload = (0..<payloadBytes).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        let messageID = [UInt8](payload.prefix(16)) + [UInt8](repeating: 1, count: max(0, 16 - payload.count))
        let commitment = [UInt8](repeating: 0xC0, count: 32)
        suffix = Array(("'><encrypted xmlns='\(Namespace.encrypted)' id='\(messageID.base64)' commitment='\(commitment.base64)'>"
            + "<payload>\(payload.base64)</payload></encrypted></message>").utf8)
    }

    /// Bytes of one message, for sizing buffers.
    var approximateSize: Int { prefix.count + suffix.count + 48 }

    /// Writes one message from `sender` into `buffer`.
    func write(sender: Int, sequence: Int, sentAt: UInt64, into buffer: inout ByteBuffer) {
        buffer.writeBytes(prefix)
        buffer.writeDecimal(UInt64(sender))
        buffer.writeInteger(UInt8(ascii: "."))
        buffer.writeDecimal(UInt64(sequence))
        buffer.writeInteger(UInt8(ascii: "."))
        buffer.writeDecimal(sentAt)
        buffer.writeBytes(suffix)
    }
}

/// The stanza id of a benchmark message: `cb<sender>.<sequence>.<sent-ns>`, decimal,
/// with the sender's monotonic clock in nanoseconds (one process, one clock).
struct MessageID: Equatable {
    static let marker = "cb"
    let sender: Int
    let sequence: Int
    let sentAt: UInt64

    /// Reads an id written by `GroupchatTemplate`; nil for any other id.
    init?(_ id: String) {
        self.init(utf8: id.utf8)
    }

    /// Reads an id from its UTF-8 bytes (as the scanner finds them in a start tag).
    init?(utf8 id: some Collection<UInt8>) {
        guard id.starts(with: Self.marker.utf8) else { return nil }
        let utf8 = id.dropFirst(Self.marker.utf8.count)
        var fields: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var index = 0
        var digits = 0
        for byte in utf8 {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, index < 2 else { return nil }
                index += 1
                digits = 0
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 20 else { return nil }
            let digit = UInt64(byte - UInt8(ascii: "0"))
            func append(_ field: inout UInt64) -> Bool {
                let (tens, overflow) = field.multipliedReportingOverflow(by: 10)
                let (sum, carry) = tens.addingReportingOverflow(digit)
                field = sum
                return !overflow && !carry
            }
            let fits = switch index {
            case 0: append(&fields.0)
            case 1: append(&fields.1)
            default: append(&fields.2)
            }
            guard fits else { return nil }
            digits += 1
        }
        guard index == 2, digits > 0, fields.0 <= UInt64(Int.max), fields.1 <= UInt64(Int.max) else { return nil }
        sender = Int(fields.0)
        sequence = Int(fields.1)
        sentAt = fields.2
    }
}

extension ByteBuffer {
    /// Writes `value` as ASCII decimal digits without building a `String`.
    mutating func writeDecimal(_ value: UInt64) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // a 24-byte scratch: UInt64 has at most 20 digits
        withUnsafeMutableBytes(of: &digits) { scratch in
            var remaining = value
            var position = scratch.count
            repeat {
                position -= 1
                scratch[position] = UInt8(ascii: "0") + UInt8(remaining % 10)
                remaining /= 10
            } while remaining > 0 && position > 0
            writeBytes(UnsafeRawBufferPointer(rebasing: scratch[position...]))
        }
    }
}
