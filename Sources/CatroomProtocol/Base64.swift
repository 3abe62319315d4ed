import Foundation

extension Array where Element == UInt8 {
    /// Strict RFC 4648 §4 base64: the standard alphabet, a length that is a multiple
    /// of four, at most two `=` at the very end, and the bits the last character
    /// does not use zero (§3.5). Foundation alone accepts extra padding (`Zm9v=`) and
    /// set unused bits (`Zm9=`), which would give one value several encodings.
    public init?(base64: some StringProtocol) {
        let utf8 = base64.utf8
        guard utf8.count % 4 == 0 else { return nil }
        let padding = utf8.reversed().prefix { $0 == UInt8(ascii: "=") }.count
        guard padding <= 2, utf8.dropLast(padding).allSatisfy(Self.isBase64Character) else { return nil }
        if padding > 0, let last = utf8.dropLast(padding).last, let value = Self.value(of: last) {
            guard value & (padding == 1 ? 0b11 : 0b1111) == 0 else { return nil }
        }
        guard let data = Data(base64Encoded: String(base64)) else { return nil }
        self = Array(data)
    }

    /// RFC 4648 §4 base64 with padding.
    public var base64: String { Data(self).base64EncodedString() }

    /// The 6-bit value of an alphabet character.
    private static func value(of byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }

    private static func isBase64Character(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "+"), UInt8(ascii: "/"): true
        default: false
        }
    }
}
