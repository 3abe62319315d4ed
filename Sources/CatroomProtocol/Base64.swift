import Foundation

extension Array where Element == UInt8 {
    /// Strict RFC 4648 §4 base64: padding required, no whitespace or other characters.
    public init?(base64: some StringProtocol) {
        guard let data = Data(base64Encoded: String(base64)) else { return nil }
        self = Array(data)
    }

    /// RFC 4648 §4 base64 with padding.
    public var base64: String { Data(self).base64EncodedString() }
}
