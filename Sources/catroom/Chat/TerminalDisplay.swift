/// Puts frames on the terminal, rewriting only the rows that changed, inside one
/// synchronised update (DEC mode 2026; terminals without it ignore the mode) with the
/// cursor hidden while it moves, then shown at the input.
struct TerminalDisplay {
    private var previous: [TerminalScreen.Frame.Row] = []
    private var columns = 0

    /// Forgets what is on screen: the next draw clears and rewrites everything (Ctrl-L, resize).
    mutating func invalidate() { previous = [] }

    /// The bytes that turn the previous frame into `frame`.
    mutating func update(to frame: TerminalScreen.Frame, columns: Int) -> String {
        let full = previous.count != frame.rows.count || self.columns != columns
        var output = "\u{1B}[?2026h\u{1B}[?25l"
        if full { output += "\u{1B}[0m\u{1B}[H\u{1B}[2J" }
        for (index, row) in frame.rows.enumerated() where full || previous[index] != row {
            output += "\u{1B}[\(index + 1);1H" + row.text
            // Erasing right after the last column would erase that column (the pending-wrap state).
            if row.width < columns { output += "\u{1B}[0m\u{1B}[K" }
        }
        output += "\u{1B}[\(frame.cursor.row + 1);\(frame.cursor.column + 1)H\u{1B}[?25h\u{1B}[?2026l"
        previous = frame.rows
        self.columns = columns
        return output
    }
}
