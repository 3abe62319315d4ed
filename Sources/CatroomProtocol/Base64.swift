import Foundation

extension Array where Element == UInt8 {
    /// Strict RFC 4648 §4 base64: the standard alphabet, a length that is a multiple
    /// of four, and at most two `=` at the very end. Foundation alone accepts extra
    /// padding (`Zm9v=`), which would give one value several encodings.
    public init?(base64: some StringProtocol) {
        let utf8 = base64.utf8
        guard utf8.count % 4 == 0 else { return nil }
        let padding = utf8.reversed().prefix { $0 == UInt8(ascii: "=") }.count
        guard padding <= 2, utf8.dropLast(padding).allSatisfy(Self.isBase64Character) else { return nil }
        guard let data = Data(base64Encoded: String(base64)) else { return nil }
        self = Array(data)
    }

    /// RFC 4648 §4 base64 with padding.
    public var base64: String { Data(self).base64EncodedString() }

    private static func isBase64Character(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "+"), UInt8(ascii: "/"): true
        default: false
        }
    }
}
