import Foundation

/// Display names as others will see them (CR-0006 §5.4, SECURITY-CASES RM-05, UI-02).
enum DisplayName {
    static let maximumLength = 32
    /// What a member whose name was refused is called, always with its fingerprint suffix.
    static let fallback = "unnamed"

    /// Why a chosen name is refused (CR-0006 §5.4); the description is shown to the user.
    enum Refusal: Error, Equatable, CustomStringConvertible {
        case bidiControl(Unicode.Scalar)
        case invisible(Unicode.Scalar)
        case control(Unicode.Scalar)
        /// `#` is reserved for the fingerprint suffix.
        case numberSign
        case empty

        var description: String {
            switch self {
            case .bidiControl(let scalar): "it contains a bidirectional control (\(Self.code(scalar)))"
            case .invisible(let scalar): "it contains an invisible character (\(Self.code(scalar)))"
            case .control(let scalar): "it contains a control or unassigned character (\(Self.code(scalar)))"
            case .numberSign: "it contains #, which is reserved for fingerprint suffixes (bob#1a2b3c4d)"
            case .empty: "it is empty"
            }
        }

        private static func code(_ scalar: Unicode.Scalar) -> String {
            String(format: "U+%04X", scalar.value)
        }
    }

    /// A chosen name as shown (CR-0006 §5.4): NFKC, refused if it holds a bidirectional
    /// control, an invisible, control or format character, or `#`; runs of spaces
    /// collapsed to one, trimmed, and cut to 32 characters.
    static func check(_ raw: String) throws(Refusal) -> String {
        var result = ""
        var lastWasSpace = true
        for scalar in raw.precomposedStringWithCompatibilityMapping.unicodeScalars {
            let properties = scalar.properties
            if properties.isBidiControl { throw .bidiControl(scalar) }
            switch properties.generalCategory {
            case .control, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned: throw .control(scalar)
            case .format: throw .invisible(scalar)
            default: break
            }
            if properties.isDefaultIgnorableCodePoint || scalar == "\u{2800}" { throw .invisible(scalar) }
            if scalar == "#" { throw .numberSign }
            if properties.generalCategory == .spaceSeparator {
                if !lastWasSpace { result.unicodeScalars.append(" ") }
                lastWasSpace = true
            } else {
                result.unicodeScalars.append(scalar)
                lastWasSpace = false
            }
        }
        let trimmed = String(result.trimmingCharacters(in: .whitespaces).prefix(maximumLength))
        if trimmed.isEmpty { throw .empty }
        return trimmed
    }

    /// Whether two names as shown would be taken for each other: equal confusable
    /// skeletons (UTS #39 §4).
    static func clash(_ a: String, _ b: String) -> Bool {
        Confusables.skeleton(a) == Confusables.skeleton(b)
    }
}
