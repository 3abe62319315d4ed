import Foundation

/// The room's topic (CR-0006 §5.11): set by any member in a `topic` room message and
/// passed on to joiners in hellos, so the server never learns it.
struct RoomTopic: Equatable, Sendable {
    /// In Unicode scalars: longer topics are refused before sending and cut when read.
    static let maximumLength = 256

    /// As shown: empty when cleared.
    var text: String
    /// The account id of the member that set it.
    var by: String
    /// The setter's clock when it set it, milliseconds since 1970 (shown, never trusted).
    var ts: Int64

    init(text: String, by: String, ts: Int64) {
        self.text = Self.shown(text)
        self.by = by
        self.ts = ts
    }

    /// CR-0006 §5.11: message text rules (§5.6), on one line, cut to `maximumLength` scalars.
    static func shown(_ raw: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in MessageText.sanitize(raw).unicodeScalars.prefix(maximumLength) {
            scalars.append(scalar == "\n" || scalar == "\t" ? " " : scalar)
        }
        return String(scalars)
    }

    /// Of two topics reported in hellos, the one a joiner shows (CR-0006 §5.11): the later
    /// `ts`, then the smaller setter id, then the smaller text, by code points.
    func supersedes(_ other: RoomTopic) -> Bool {
        if ts != other.ts { return ts > other.ts }
        if by != other.by { return by.unicodeScalars.lexicographicallyPrecedes(other.by.unicodeScalars) }
        return text.unicodeScalars.lexicographicallyPrecedes(other.text.unicodeScalars)
    }
}
