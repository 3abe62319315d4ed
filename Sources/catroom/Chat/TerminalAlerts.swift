/// Mentions of one's nick and private messages, for someone looking elsewhere: the
/// bell, and the count in the terminal's title ("catroom: 2 new in lobby") until the
/// user types. The title is pushed on entry and popped on exit (`TerminalDevice`).
struct TerminalAlerts {
    /// False with `--no-alerts`: no bell, the title left alone.
    let enabled: Bool
    let room: String
    private(set) var unseen = 0
    /// Bytes for the terminal, written before the next frame.
    private var output = ""

    init(enabled: Bool, room: String) {
        self.enabled = enabled
        self.room = room
    }

    mutating func alert() {
        guard enabled else { return }
        unseen += 1
        output += "\u{07}" + Self.title("catroom: \(unseen) new in \(room)")
    }

    /// The user typed: the alerts have been seen.
    mutating func seen() {
        guard enabled, unseen > 0 else { return }
        unseen = 0
        output += Self.title("catroom: \(room)")
    }

    mutating func take() -> String {
        defer { output = "" }
        return output
    }

    /// OSC 2, the window title; the text without controls, so it cannot end the sequence.
    static func title(_ text: String) -> String {
        "\u{1B}]2;" + TerminalText.sanitized(text, keepingNewlines: false) + "\u{07}"
    }
}
