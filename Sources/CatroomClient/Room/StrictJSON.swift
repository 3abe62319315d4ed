/// CR-0006 §5.3 reading rules 2 and 3 over the whole payload, the members its reader
/// ignores included: `JSONDecoder` skips those without checking them, and took `01`,
/// `[1,]` or `"\q"` there (found by the `payload` fuzz target). RFC 8259 leaves repeated
/// names and unpaired surrogates to each parser; ruling them out makes every
/// implementation read one payload alike.
enum StrictJSON {
    /// Deepest nesting of objects and arrays; the payload object is level 1 (§5.3 rule 2).
    static let maxDepth = 32

    /// A member of the top-level object, as §5.3 rule 4 reads integral numbers: exactly,
    /// from the digits written (`JSONDecoder` goes through `Double`, and read
    /// `92233720368547758.7` as a whole number: found by the `payload` fuzz target).
    enum Member: Equatable {
        /// A number whose value is a whole number in the signed 64-bit range.
        case integral(Int64)
        case null
        /// Anything else: another number, a string, an object, an array, a boolean.
        case other
    }

    /// The members of the top-level object by name (empty if the value is not an object),
    /// or nil unless `bytes` are one JSON text (RFC 8259) in UTF-8, nested at most
    /// `maxDepth` deep, in which no object repeats a name (compared code point by code
    /// point after unescaping) and no string holds an unpaired surrogate.
    static func members(_ bytes: [UInt8]) -> [String: Member]? {
        guard String(validating: bytes, as: UTF8.self) != nil else { return nil }
        var scanner = Scanner(bytes: bytes)
        return scanner.text() ? scanner.members : nil
    }

    /// A single pass with an explicit stack, so no input can make it recurse.
    private struct Scanner {
        let bytes: [UInt8]
        var index = 0
        /// One entry per open container: the names an object has so far (as UTF-8), nil for an array.
        var open: [Set<[UInt8]>?] = []
        /// The top-level object's members so far, and the name of the one being read.
        var members: [String: Member] = [:]
        var memberName: [UInt8] = []

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func text() -> Bool {
            while true {
                // A value.
                skipWhitespace()
                switch next {
                case UInt8(ascii: "{")?, UInt8(ascii: "[")?:
                    guard open.count < StrictJSON.maxDepth else { return false }
                    let isObject = next == UInt8(ascii: "{")
                    index += 1
                    open.append(isObject ? [] : nil)
                    skipWhitespace()
                    if next == UInt8(ascii: isObject ? "}" : "]") {
                        index += 1
                        open.removeLast()
                    } else {
                        if isObject { guard name() else { return false } }
                        continue
                    }
                case UInt8(ascii: "\"")?: guard string() != nil else { return false }
                case UInt8(ascii: "t")?: guard literal("true") else { return false }
                case UInt8(ascii: "f")?: guard literal("false") else { return false }
                case UInt8(ascii: "n")?:
                    guard literal("null") else { return false }
                    if open.count == 1 { members[String(decoding: memberName, as: UTF8.self)] = .null }
                default:
                    let start = index
                    guard number() else { return false }
                    if open.count == 1 {
                        members[String(decoding: memberName, as: UTF8.self)] = StrictJSON.integral(bytes[start..<index]).map { .integral($0) } ?? .other
                    }
                }
                // What follows a value: the end of the text, a comma, or the end of its containers.
                while true {
                    skipWhitespace()
                    guard let container = open.last else { return index == bytes.count }
                    if next == UInt8(ascii: ",") {
                        index += 1
                        if container != nil { guard name() else { return false } }
                        break
                    }
                    guard next == UInt8(ascii: container == nil ? "]" : "}") else { return false }
                    index += 1
                    open.removeLast()
                }
            }
        }

        private var next: UInt8? { index < bytes.count ? bytes[index] : nil }

        private mutating func skipWhitespace() {
            while let byte = next, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
        }

        private mutating func literal(_ word: String) -> Bool {
            for byte in word.utf8 {
                guard next == byte else { return false }
                index += 1
            }
            return true
        }

        /// A member's name, not yet seen in its object, and the colon after it.
        private mutating func name() -> Bool {
            skipWhitespace()
            guard next == UInt8(ascii: "\""), let name = string(), open[open.count - 1]?.insert(name).inserted == true else { return false }
            if open.count == 1 {
                memberName = name
                members[String(decoding: name, as: UTF8.self)] = .other  // until its value says more
            }
            skipWhitespace()
            return literal(":")
        }

        /// A string's value as UTF-8, or nil for a bad escape, a control character or an unpaired surrogate.
        private mutating func string() -> [UInt8]? {
            index += 1  // the opening quote
            var value: [UInt8] = []
            while let byte = next {
                index += 1
                switch byte {
                case UInt8(ascii: "\""): return value
                case ..<0x20: return nil
                case UInt8(ascii: "\\"):
                    guard let scalar = escape() else { return nil }
                    value += Array(String(scalar).utf8)
                default: value.append(byte)
                }
            }
            return nil
        }

        private mutating func escape() -> Unicode.Scalar? {
            guard let byte = next else { return nil }
            index += 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): return Unicode.Scalar(byte)
            case UInt8(ascii: "b"): return "\u{08}"
            case UInt8(ascii: "f"): return "\u{0C}"
            case UInt8(ascii: "n"): return "\n"
            case UInt8(ascii: "r"): return "\r"
            case UInt8(ascii: "t"): return "\t"
            case UInt8(ascii: "u"):
                guard let unit = hex4() else { return nil }
                if let scalar = Unicode.Scalar(unit) { return scalar }
                // A surrogate: only a high one followed by an escaped low one makes a character.
                guard unit < 0xDC00, literal("\\u"), let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                return Unicode.Scalar(0x10000 + (unit - 0xD800) << 10 + (low - 0xDC00))
            default: return nil
            }
        }

        private mutating func hex4() -> UInt32? {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let byte = next, let digit = Character(Unicode.Scalar(byte)).hexDigitValue else { return nil }
                value = value << 4 | UInt32(digit)
                index += 1
            }
            return value
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
        private mutating func number() -> Bool {
            if next == UInt8(ascii: "-") { index += 1 }
            if next == UInt8(ascii: "0") {
                index += 1
            } else if !digits() {
                return false
            }
            if next == UInt8(ascii: ".") {
                index += 1
                guard digits() else { return false }
            }
            if next == UInt8(ascii: "e") || next == UInt8(ascii: "E") {
                index += 1
                if next == UInt8(ascii: "+") || next == UInt8(ascii: "-") { index += 1 }
                guard digits() else { return false }
            }
            return true
        }

        /// One or more decimal digits.
        private mutating func digits() -> Bool {
            let start = index
            while let byte = next, (0x30...0x39).contains(byte) { index += 1 }
            return index > start
        }
    }

    /// The value of a number token (already checked against RFC 8259's grammar) when it is
    /// a whole number in the signed 64-bit range, however written (`1`, `1.0`, `10e-1`).
    static func integral(_ token: ArraySlice<UInt8>) -> Int64? {
        var rest = token[...]
        let negative = rest.first == UInt8(ascii: "-")
        if negative { rest = rest.dropFirst() }
        let mantissaEnd = rest.firstIndex { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") } ?? rest.endIndex
        let mantissa = rest[..<mantissaEnd]
        let point = mantissa.firstIndex(of: UInt8(ascii: ".")) ?? mantissa.endIndex
        let fraction = mantissa[point...].dropFirst()
        var digits = Array(mantissa[..<point]) + fraction
        // The value is digits × 10^exponent.
        var exponent = -fraction.count
        if mantissaEnd < rest.endIndex {
            var written = rest[mantissaEnd...].dropFirst()
            let negativeExponent = written.first == UInt8(ascii: "-")
            if written.first == UInt8(ascii: "-") || written.first == UInt8(ascii: "+") { written = written.dropFirst() }
            // Saturated: past a few thousand the answer no longer depends on it.
            let magnitude = written.reduce(0) { min($0 * 10 + Int($1 - 0x30), 1_000_000) }
            exponent += negativeExponent ? -magnitude : magnitude
        }
        digits = Array(digits.drop { $0 == UInt8(ascii: "0") })
        guard !digits.isEmpty else { return 0 }
        while digits.last == UInt8(ascii: "0") {
            digits.removeLast()
            exponent += 1
        }
        guard exponent >= 0, digits.count + exponent <= 19 else { return nil }
        // At most 19 digits: below 10^19, so no overflow.
        let value = (digits + [UInt8](repeating: UInt8(ascii: "0"), count: exponent)).reduce(UInt64(0)) { $0 * 10 + UInt64($1 - 0x30) }
        if negative { return value <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- value) : nil }
        return value <= UInt64(Int64.max) ? Int64(value) : nil
    }
}
