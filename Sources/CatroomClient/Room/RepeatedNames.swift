import Foundation

/// Whether a JSON text that already parsed (RFC 8259) repeats a member name within
/// one object. RFC 8259 §4 leaves that case to each parser (some keep the first value,
/// some the last), so CR-0006 §5.3 makes such a payload unreadable: every
/// implementation then reads one payload alike.
enum RepeatedNames {
    static func found(in json: [UInt8]) -> Bool {
        // One entry per open container: the names seen so far, or nil for an array.
        var open: [Set<String>?] = []
        var expectingName = false
        var index = 0
        while index < json.count {
            switch json[index] {
            case UInt8(ascii: "{"):
                open.append([])
                expectingName = true
            case UInt8(ascii: "["):
                open.append(nil)
                expectingName = false
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                _ = open.popLast()
                expectingName = false
            case UInt8(ascii: ","):
                expectingName = open.last.map { $0 != nil } ?? false
            case UInt8(ascii: "\""):
                var end = index + 1
                while end < json.count, json[end] != UInt8(ascii: "\"") {
                    end += json[end] == UInt8(ascii: "\\") ? 2 : 1
                }
                guard end < json.count else { return true }
                if expectingName, var names = open.last ?? nil {
                    guard let name = Self.string(json[index...end]), names.insert(name).inserted else { return true }
                    open[open.count - 1] = names
                    expectingName = false
                }
                index = end
            default:
                break
            }
            index += 1
        }
        return false
    }

    /// A string literal's value; escapes (`\u0076` is `v`) are left to the JSON decoder.
    private static func string(_ literal: ArraySlice<UInt8>) -> String? {
        guard literal.contains(UInt8(ascii: "\\")) else {
            return String(decoding: literal.dropFirst().dropLast(), as: UTF8.self)
        }
        return try? JSONDecoder().decode(String.self, from: Data(literal))
    }
}
