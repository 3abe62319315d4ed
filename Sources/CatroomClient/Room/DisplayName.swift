import Foundation

/// Display names as others will see them (SECURITY-CASES RM-05, UI-02): compatibility-
/// normalised (NFKC), without control or format characters (no bidi overrides, no
/// zero-width characters, no terminal escapes), single-spaced and at most 32 characters.
enum DisplayName {
    static let maximumLength = 32

    static func sanitize(_ raw: String) -> String {
        let normalized = raw.precomposedStringWithCompatibilityMapping
        var result = ""
        var lastWasSpace = true
        for scalar in normalized.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
                continue
            case .spaceSeparator:
                if !lastWasSpace { result.unicodeScalars.append(" ") }
                lastWasSpace = true
            default:
                result.unicodeScalars.append(scalar)
                lastWasSpace = false
            }
        }
        let trimmed = String(result.trimmingCharacters(in: .whitespaces).prefix(maximumLength))
        return trimmed.isEmpty ? "anonymous" : trimmed
    }

    /// Message text shown in a terminal: control characters (escape sequences among them)
    /// and bidi overrides neutralised, tabs and newlines kept.
    static func sanitizeText(_ raw: String) -> String {
        var result = ""
        for scalar in raw.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control where scalar == "\n" || scalar == "\t":
                result.unicodeScalars.append(scalar)
            case .control, .format, .surrogate:
                result.unicodeScalars.append("\u{FFFD}")
            default:
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
