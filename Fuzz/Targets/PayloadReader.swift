/// A second reading of CR-0006 §5.3, written from the document alone, for the `payload`
/// target to compare `ChatPayload.decode` with: its own RFC 8259 parser building values,
/// names compared as code points, integral numbers judged exactly however they are written.
enum PayloadReader {
    /// What a readable payload says; strings as code points, so that no normalisation hides a difference.
    struct Payload: Equatable {
        var type: [Unicode.Scalar]
        var ts: Int64
        var nick, body, invite: [Unicode.Scalar]?
        var acks: [[[Unicode.Scalar]]]?  // sender, id, digest
    }

    indirect enum Value {
        case object([(name: [Unicode.Scalar], value: Value)])
        case array([Value])
        case string([Unicode.Scalar])
        case number(Int64?)  // nil when not integral or outside 64 bits
        case literal  // true, false
        case null
    }

    struct Unreadable: Error {}

    /// §5.3's reading rules, in order; nil when the payload is unreadable.
    static func read(_ bytes: [UInt8]) -> Payload? {
        // Rule 1: a positive multiple of 64 bytes.
        guard !bytes.isEmpty, bytes.count % 64 == 0 else { return nil }
        // Rule 2: one JSON text in UTF-8 holding an object; rule 3 is checked as it parses.
        guard String(validating: bytes, as: UTF8.self) != nil else { return nil }
        var parser = Parser(bytes: bytes)
        guard let value = try? parser.document(), case .object(let members) = value else { return nil }
        // Rule 4: the keys' types.
        func member(_ name: String) -> Value? {
            members.first { $0.name == Array(name.unicodeScalars) }.map(\.value)
        }
        func optionalString(_ name: String) throws -> [Unicode.Scalar]? {
            switch member(name) {
            case nil, .null?: return nil
            case .string(let string)?: return string
            default: throw Unreadable()
            }
        }
        guard case .number(1?)? = member("v"), case .string(let type)? = member("type"),
              case .number(let ts?)? = member("ts")
        else { return nil }
        var payload = Payload(type: type, ts: ts)
        do {
            payload.nick = try optionalString("nick")
            payload.body = try optionalString("body")
            payload.invite = try optionalString("invite")
            switch member("acks") {
            case nil, .null?: break
            case .array(let entries)?:
                payload.acks = try entries.map { entry in
                    guard case .object(let fields) = entry else { throw Unreadable() }
                    return try ["sender", "id", "digest"].map { name in
                        guard case .string(let string)? = fields.first(where: { $0.name == Array(name.unicodeScalars) })?.value
                        else { throw Unreadable() }
                        return string
                    }
                }
            default: return nil
            }
        } catch {
            return nil
        }
        return payload
    }

    /// RFC 8259 over bytes already known to be UTF-8.
    struct Parser {
        let bytes: [UInt8]
        var index = 0

        mutating func document() throws -> Value {
            skipWhitespace()
            let value = try self.value(depth: 0)
            skipWhitespace()
            guard index == bytes.count else { throw Unreadable() }
            return value
        }

        private var next: UInt8? { index < bytes.count ? bytes[index] : nil }

        private mutating func skipWhitespace() {
            while let byte = next, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
        }

        private mutating func expect(_ literal: String) throws {
            for byte in literal.utf8 {
                guard next == byte else { throw Unreadable() }
                index += 1
            }
        }

        /// `depth` counts the containers around the value; rule 2 allows 32 levels, the payload object being level 1.
        private mutating func value(depth: Int) throws -> Value {
            switch next {
            case UInt8(ascii: "{")?:
                guard depth < 32 else { throw Unreadable() }
                index += 1
                var members: [(name: [Unicode.Scalar], value: Value)] = []
                skipWhitespace()
                if next == UInt8(ascii: "}") { index += 1; return .object(members) }
                while true {
                    skipWhitespace()
                    guard next == UInt8(ascii: "\"") else { throw Unreadable() }
                    let name = try string()
                    // Rule 3: no repeated name, compared after unescaping.
                    guard !members.contains(where: { $0.name == name }) else { throw Unreadable() }
                    skipWhitespace()
                    try expect(":")
                    skipWhitespace()
                    members.append((name, try value(depth: depth + 1)))
                    skipWhitespace()
                    if next == UInt8(ascii: ",") { index += 1; continue }
                    try expect("}")
                    return .object(members)
                }
            case UInt8(ascii: "[")?:
                guard depth < 32 else { throw Unreadable() }
                index += 1
                var elements: [Value] = []
                skipWhitespace()
                if next == UInt8(ascii: "]") { index += 1; return .array(elements) }
                while true {
                    skipWhitespace()
                    elements.append(try value(depth: depth + 1))
                    skipWhitespace()
                    if next == UInt8(ascii: ",") { index += 1; continue }
                    try expect("]")
                    return .array(elements)
                }
            case UInt8(ascii: "\"")?: return .string(try string())
            case UInt8(ascii: "t")?: try expect("true"); return .literal
            case UInt8(ascii: "f")?: try expect("false"); return .literal
            case UInt8(ascii: "n")?: try expect("null"); return .null
            default: return .number(try number())
            }
        }

        private mutating func string() throws -> [Unicode.Scalar] {
            index += 1  // the opening quote
            var start = index
            var scalars: [Unicode.Scalar] = []
            func flush(_ end: Int) {
                scalars += String(decoding: bytes[start..<end], as: UTF8.self).unicodeScalars
            }
            while true {
                guard let byte = next else { throw Unreadable() }
                switch byte {
                case UInt8(ascii: "\""):
                    flush(index)
                    index += 1
                    return scalars
                case UInt8(ascii: "\\"):
                    flush(index)
                    index += 1
                    scalars.append(try escape())
                    start = index
                case ..<0x20:
                    throw Unreadable()
                default:
                    index += 1
                }
            }
        }

        private mutating func escape() throws -> Unicode.Scalar {
            guard let byte = next else { throw Unreadable() }
            index += 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): return Unicode.Scalar(byte)
            case UInt8(ascii: "b"): return "\u{08}"
            case UInt8(ascii: "f"): return "\u{0C}"
            case UInt8(ascii: "n"): return "\n"
            case UInt8(ascii: "r"): return "\r"
            case UInt8(ascii: "t"): return "\t"
            case UInt8(ascii: "u"):
                let unit = try hex4()
                if let scalar = Unicode.Scalar(unit) { return scalar }
                // Rule 3: a surrogate must be a high one followed by an escaped low one.
                guard unit < 0xDC00 else { throw Unreadable() }
                try expect("\\u")
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low),
                      let scalar = Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                else { throw Unreadable() }
                return scalar
            default:
                throw Unreadable()
            }
        }

        private mutating func hex4() throws -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let byte = next, let digit = Int(String(Unicode.Scalar(byte)), radix: 16) else { throw Unreadable() }
                value = value << 4 | UInt32(digit)
                index += 1
            }
            return value
        }

        /// `-? int frac? exp?`; the value if it is a whole number in the signed 64-bit range.
        private mutating func number() throws -> Int64? {
            let negative = next == UInt8(ascii: "-")
            if negative { index += 1 }
            var digits: [UInt8] = []
            guard let first = next, (0x30...0x39).contains(first) else { throw Unreadable() }
            if first == 0x30 {
                index += 1
            } else {
                while let byte = next, (0x30...0x39).contains(byte) { digits.append(byte - 0x30); index += 1 }
            }
            var exponent = 0
            if next == UInt8(ascii: ".") {
                index += 1
                guard let byte = next, (0x30...0x39).contains(byte) else { throw Unreadable() }
                while let byte = next, (0x30...0x39).contains(byte) { digits.append(byte - 0x30); exponent -= 1; index += 1 }
            }
            if next == UInt8(ascii: "e") || next == UInt8(ascii: "E") {
                index += 1
                let negativeExponent = next == UInt8(ascii: "-")
                if negativeExponent || next == UInt8(ascii: "+") { index += 1 }
                guard let byte = next, (0x30...0x39).contains(byte) else { throw Unreadable() }
                var written = 0
                while let byte = next, (0x30...0x39).contains(byte) {
                    written = min(written * 10 + Int(byte - 0x30), 1 << 32)  // saturates: far beyond any 64-bit value
                    index += 1
                }
                exponent += negativeExponent ? -written : written
            }
            // The value is digits × 10^exponent: whole once trailing zeros are moved into the exponent.
            while let last = digits.last, last == 0, exponent < 0 { digits.removeLast(); exponent += 1 }
            while digits.first == 0 { digits.removeFirst() }
            if digits.isEmpty { return 0 }
            guard exponent >= 0, digits.count + exponent <= 19 else { return nil }
            var magnitude: UInt64 = 0
            for digit in digits + [UInt8](repeating: 0, count: exponent) {
                let (times, overflow) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, carry) = times.addingReportingOverflow(UInt64(digit))
                guard !overflow, !carry else { return nil }
                magnitude = sum
            }
            if negative { return magnitude <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- magnitude) : nil }
            return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
        }
    }
}
