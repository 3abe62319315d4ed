import CatroomProfile

extension TerminalTranscript {
    /// Stored history between its two separators, dimmed: older than anything live.
    static func history(_ entries: [HistoryEntry]) -> [TerminalLine] {
        [noticeLine(HistoryText.earlier)]
            + entries.map { TerminalLine(prefix: [TerminalSpan(HistoryText.prefix($0), dim)], messageText($0.text, dim, separator: TerminalSpan("\n| ", dim))) }
            + [noticeLine(HistoryText.now)]
    }
}
