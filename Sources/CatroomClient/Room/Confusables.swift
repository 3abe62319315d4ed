import Foundation

/// The confusable skeleton of Unicode Technical Standard #39 §4, which tells when two
/// display names look alike (CR-0006 §5.4).
enum Confusables {
    /// Each source scalar's prototype, from `table` (generated, UTS #39 version 13.0.0).
    static let prototypes: [UInt32: String] = {
        var result: [UInt32: String] = [:]
        for entry in table.split(separator: ",") {
            let sides = entry.split(separator: "=")
            guard sides.count == 2, let source = UInt32(sides[0], radix: 16) else { continue }
            var prototype = ""
            for hex in sides[1].split(separator: ".") {
                if let value = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(value) { prototype.unicodeScalars.append(scalar) }
            }
            result[source] = prototype
        }
        return result
    }()

    /// skeleton(X): NFD(X), each scalar replaced by its prototype, NFD again (UTS #39 §4).
    /// The result is compared scalar by scalar, never shown.
    static func skeleton(_ text: String) -> [Unicode.Scalar] {
        var mapped = ""
        for scalar in text.decomposedStringWithCanonicalMapping.unicodeScalars {
            if let prototype = prototypes[scalar.value] { mapped += prototype } else { mapped.unicodeScalars.append(scalar) }
        }
        return Array(mapped.decomposedStringWithCanonicalMapping.unicodeScalars)
    }
}
