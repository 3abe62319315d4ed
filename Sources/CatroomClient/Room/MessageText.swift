/// Message text as it may reach a terminal (SECURITY-CASES UI-02): every character a
/// writer needs is kept (joiners, variation selectors, combining marks, right-to-left
/// letters and marks, newlines, tabs); what would act on the terminal or on the text
/// around the message becomes U+FFFD: C0 and C1 controls and DEL (escape sequences
/// start with them), and the bidi embeddings, overrides and isolates, which could
/// reorder whatever is shown after the message. Front ends isolate each message for
/// bidi themselves (FSI … PDI).
public enum MessageText {
    public static func sanitize(_ raw: String) -> String {
        var result = String.UnicodeScalarView()
        for scalar in raw.unicodeScalars {
            result.append(isNeutralised(scalar) ? "\u{FFFD}" : scalar)
        }
        return String(result)
    }

    /// Whether `scalar` is one that `sanitize` replaces.
    public static func isNeutralised(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0A, 0x09: false
        case 0x00...0x1F, 0x7F...0x9F: true
        // LRE, RLE, PDF, LRO, RLO; LRI, RLI, FSI, PDI.
        case 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}
