/// Anything that lends its bytes contiguously: `[UInt8]`, slices, `SecretBytes`.
///
/// Lets the primitives take public and secret inputs alike without copying.
public protocol RawBytes {
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Array: RawBytes where Element == UInt8 {}
extension ArraySlice: RawBytes where Element == UInt8 {}
extension ContiguousArray: RawBytes where Element == UInt8 {}

extension UnsafeRawBufferPointer: RawBytes {
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(self)
    }
}

extension String {
    /// The UTF-8 bytes of a label such as `"catroom-x3dh-v1"`.
    var utf8Bytes: [UInt8] { Array(utf8) }
}
