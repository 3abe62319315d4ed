/// What the terminal shows, as a value: the scrollback on top (newest at the bottom,
/// wrapped to the width), a status line, and the input line at the bottom, scrolled
/// sideways when it is longer than the screen. `frame(editor:)` turns it into rows.
struct TerminalScreen {
    struct Size: Equatable, Sendable {
        var rows: Int
        var columns: Int
    }

    /// A rendered screen: one string per row (escape sequences included) and where the cursor goes.
    struct Frame: Equatable {
        struct Row: Equatable {
            var text: String
            /// Columns used, so the writer knows whether to clear the rest.
            var width: Int
        }
        var rows: [Row]
        var cursor: (row: Int, column: Int)

        static func == (a: Frame, b: Frame) -> Bool { a.rows == b.rows && a.cursor == b.cursor }
    }

    private struct Entry {
        var cells: [TerminalCell]
        let indent: Int
        var messageID: String?
        /// Cells of `cells` that are the delivery mark, at the end.
        var markCount = 0
        var rows: [[TerminalCell]] = []
        /// `rows` as drawn, kept so that a frame whose scrollback did not change costs no rendering.
        var drawn: [Frame.Row] = []
        var wrappedWidth = 0
    }

    static let scrollbackLimit = 5000

    private(set) var size: Size
    let palette: TerminalPalette
    private var entries: [Entry] = []
    /// Rows scrolled up from the newest; 0 follows new lines.
    private(set) var scroll = 0
    /// Entries that arrived while scrolled up.
    private(set) var unseen = 0
    /// The status line's text (drawn in reverse video, the scroll state added on the right).
    var status: [TerminalSpan] = []
    /// What precedes the input.
    var prompt: [TerminalSpan] = []
    /// How a newline in the input (Alt-Enter, a pasted block) is shown.
    var newlineSymbol: Character = "↵"
    /// The first character of the input shown, when the input is wider than the screen.
    private var inputOffset = 0
    /// The last `/search` and the entry it found, so the next one looks further up.
    private var lastSearch: (text: String, index: Int)?

    init(size: Size, palette: TerminalPalette) {
        self.size = size
        self.palette = palette
    }

    /// Rows available to the scrollback.
    var scrollbackRows: Int { max(size.rows - 2, 0) }

    // MARK: - Scrollback

    mutating func append(_ line: TerminalLine, time: String) {
        let timestamp = TerminalText.cells(time + " ", TerminalStyle.plain.with { $0.dim = true }, keepingNewlines: false)
        let prefix = line.prefix.flatMap { TerminalText.cells($0.text, $0.style, keepingNewlines: false) }
        var entry = Entry(
            cells: timestamp + prefix + TerminalText.cells(line.body), indent: TerminalText.width(timestamp + prefix),
            messageID: line.messageID)
        if scroll > 0 {
            // Keep the view still while the user reads further up.
            scroll += Self.wrapped(&entry, columns: size.columns).count
            unseen += 1
        }
        entries.append(entry)
        if entries.count > Self.scrollbackLimit + 500 {
            lastSearch = nil
            entries.removeFirst(entries.count - Self.scrollbackLimit)
            scroll = min(scroll, maximumScroll())
        }
    }

    /// Replaces the delivery mark at the end of the line of one's own message `messageID`
    /// (CR-0006 §5.8), if it is still in the scrollback.
    mutating func mark(_ messageID: String, with mark: TerminalSpan) {
        guard let index = entries.lastIndex(where: { $0.messageID == messageID }) else { return }
        let cells = TerminalText.cells(mark.text, mark.style, keepingNewlines: false)
        entries[index].cells.removeLast(entries[index].markCount)
        entries[index].cells += cells
        entries[index].markCount = cells.count
        entries[index].wrappedWidth = 0
    }

    /// `/search`: scrolls up to the newest line containing `text` (ignoring case) above
    /// the last match, or anywhere after a new search; false when there is none.
    mutating func search(_ text: String) -> Bool {
        let needle = text.lowercased()
        if needle != lastSearch?.text { lastSearch = nil }
        var below = 0
        for index in entries.indices.reversed() {
            let rows = Self.wrapped(&entries[index], columns: size.columns).count
            defer { below += rows }
            if let last = lastSearch?.index, index >= last { continue }
            guard String(entries[index].cells.map(\.character)).lowercased().contains(needle) else { continue }
            lastSearch = (needle, index)
            // The match's last row at the bottom of the view, or as low as the scrollback allows.
            scroll = min(below, maximumScroll())
            return true
        }
        return false
    }

    /// `/clear`: an empty scrollback (nothing is kept to scroll back to).
    mutating func clear() {
        entries = []
        scrollToBottom()
    }

    mutating func resize(_ size: Size) {
        self.size = size
        scroll = min(scroll, maximumScroll())
    }

    /// PageUp and PageDown: a screenful less two rows of context.
    mutating func scrollPage(up: Bool) {
        let page = max(scrollbackRows - 2, 1)
        scroll = up ? min(scroll + page, maximumScroll()) : max(scroll - page, 0)
        if scroll == 0 { unseen = 0 }
    }

    /// Alt-Home: the oldest line kept.
    mutating func scrollToTop() {
        scroll = maximumScroll()
    }

    mutating func scrollToBottom() {
        scroll = 0
        unseen = 0
        lastSearch = nil
    }

    private mutating func maximumScroll() -> Int {
        var total = 0
        let columns = size.columns
        for index in entries.indices { total += Self.wrapped(&entries[index], columns: columns).count }
        return max(total - scrollbackRows, 0)
    }

    /// Static, not methods: a method of `self` called on `&entries[index]` would copy
    /// `self`, and the scrollback with it, at every call.
    private static func wrapped(_ entry: inout Entry, columns: Int) -> [[TerminalCell]] {
        let width = max(columns, 1)
        if entry.wrappedWidth != width {
            entry.rows = TerminalText.wrap(entry.cells, width: width, indent: entry.indent)
            entry.drawn = []
            entry.wrappedWidth = width
        }
        return entry.rows
    }

    /// The entry's rows as drawn, rendered once per width and change.
    private static func drawn(_ entry: inout Entry, columns: Int, colors: Bool) -> [Frame.Row] {
        let rows = wrapped(&entry, columns: columns)
        if entry.drawn.count != rows.count {
            entry.drawn = rows.map { Frame.Row(text: TerminalText.render($0, colors: colors), width: TerminalText.width($0)) }
        }
        return entry.drawn
    }

    // MARK: - Frame

    mutating func frame(editor: LineEditor) -> Frame {
        var rows: [Frame.Row] = []
        let height = scrollbackRows
        if height > 0 {
            // Collect rows from the newest back until the window (shifted by the scroll) is full.
            // Newest first, then reversed: only the entries in view are rendered (once, then kept).
            let (columns, colors) = (size.columns, palette.colors)
            var collected: [Frame.Row] = []
            var index = entries.count - 1
            while index >= 0, collected.count < height + scroll {
                collected += Self.drawn(&entries[index], columns: columns, colors: colors).reversed()
                index -= 1
            }
            collected.reverse()
            let end = max(collected.count - scroll, 0)
            let visible = collected[max(end - height, 0)..<end]
            rows += Array(repeating: Frame.Row(text: "", width: 0), count: height - visible.count)
            rows += visible
        }
        if size.rows >= 2 { rows.append(statusRow()) }
        let (input, column) = inputRow(editor)
        rows.append(input)
        return Frame(rows: rows, cursor: (rows.count - 1, column))
    }

    private func statusRow() -> Frame.Row {
        let reverse: (TerminalStyle) -> TerminalStyle = { $0.with { $0.reverse = true } }
        var cells = TerminalText.cells(status.map { TerminalSpan($0.text, reverse($0.style)) }).filter { !$0.isLineBreak }
        if scroll > 0 {
            let more = " -- more\(unseen > 0 ? " (\(unseen) new)" : "") -- "
            let right = TerminalText.cells(more, reverse(TerminalStyle.plain.with { $0.bold = true }), keepingNewlines: false)
            let room = size.columns - TerminalText.width(right)
            cells = truncated(cells, to: max(room, 0))
            cells += Array(repeating: TerminalCell(character: " ", width: 1, style: reverse(.plain)), count: max(room - TerminalText.width(cells), 0))
            cells += right
        }
        cells = truncated(cells, to: size.columns)
        cells += Array(repeating: TerminalCell(character: " ", width: 1, style: reverse(.plain)), count: max(size.columns - TerminalText.width(cells), 0))
        return Frame.Row(text: TerminalText.render(cells, colors: palette.colors), width: TerminalText.width(cells))
    }

    private func truncated(_ cells: [TerminalCell], to width: Int) -> [TerminalCell] {
        var used = 0
        var result: [TerminalCell] = []
        for cell in cells {
            guard used + cell.width <= width else { break }
            result.append(cell)
            used += cell.width
        }
        return result
    }

    /// The prompt and the part of the input around the cursor; `<` and `>` mark text
    /// scrolled out of view on either side.
    private mutating func inputRow(_ editor: LineEditor) -> (Frame.Row, Int) {
        var promptCells = TerminalText.cells(prompt).filter { !$0.isLineBreak }
        // On a very narrow screen the input wins over the prompt.
        if size.columns - TerminalText.width(promptCells) < 8 { promptCells = [] }
        let available = max(size.columns - TerminalText.width(promptCells), 1)
        let newline = TerminalCell(character: newlineSymbol, width: 1, style: TerminalStyle.plain.with { $0.reverse = true })
        let text = editor.text.map { character -> TerminalCell in
            if character == "\n" { return newline }
            return TerminalText.cells(String(character), .plain, keepingNewlines: false).first
                ?? TerminalCell(character: " ", width: 1, style: .plain)
        }
        let cursor = editor.cursor
        let marker = TerminalStyle.plain.with { $0.bold = true; $0.reverse = true }

        func columnsBeforeCursor() -> Int {
            (inputOffset > 0 ? 1 : 0) + TerminalText.width(text[inputOffset..<cursor])
        }
        if TerminalText.width(text) + 1 <= available {
            inputOffset = 0
        } else {
            // Keep the cursor in view, with a third of the width of context to its left when scrolling back.
            if cursor < inputOffset { inputOffset = max(cursor - available / 3, 0) }
            // The cursor's own column, and one for the `>` marker when text follows it.
            let needed = cursor < text.count ? 2 : 1
            while inputOffset < cursor, columnsBeforeCursor() + needed > available { inputOffset += 1 }
            // No blank columns on the right while text is hidden on the left (after a resize).
            while inputOffset > 0, 1 + TerminalText.width(text[(inputOffset - 1)...]) + 1 <= available { inputOffset -= 1 }
        }

        var cells: [TerminalCell] = []
        var used = 0
        if inputOffset > 0 {
            cells.append(TerminalCell(character: "<", width: 1, style: marker))
            used = 1
        }
        var index = inputOffset
        while index < text.count {
            let cell = text[index]
            let last = index == text.count - 1
            // Leave a column for the `>` marker unless this is the last character.
            if used + cell.width > available - (last ? 0 : 1) {
                cells.append(TerminalCell(character: ">", width: 1, style: marker))
                used += 1
                break
            }
            cells.append(cell)
            used += cell.width
            index += 1
        }
        let column = TerminalText.width(promptCells) + columnsBeforeCursor()
        let all = promptCells + cells
        return (Frame.Row(text: TerminalText.render(all, colors: palette.colors), width: TerminalText.width(all)), min(column, size.columns - 1))
    }
}
