import CatroomClient

/// Styled text for the terminal: spans, cells one terminal column wide or two, word
/// wrapping, and the only place escape sequences are made.
///
/// Text from the network never reaches the terminal as bytes of its own: every
/// string becomes cells first, and cells hold printable characters only (C0, DEL, C1
/// and bidi controls become U+FFFD), so the escapes in a frame are always ours. The
/// text of a message is isolated for bidi on each row (FSI … PDI, which only we
/// write), so right-to-left text cannot reorder the nick or the next message.

// MARK: - Style

/// How a run of text looks: SGR attributes only.
struct TerminalStyle: Equatable, Sendable {
    enum Color: Equatable, Sendable {
        /// One of the eight basic colours (0 to 7), which follow the user's theme.
        case basic(UInt8)
        /// The 256-colour palette.
        case indexed(UInt8)
        case rgb(UInt8, UInt8, UInt8)
    }

    var color: Color?
    var bold = false
    var dim = false
    var italic = false
    var reverse = false

    static let plain = TerminalStyle()

    func with(_ change: (inout TerminalStyle) -> Void) -> TerminalStyle {
        var copy = self
        change(&copy)
        return copy
    }

    /// The SGR sequence that sets exactly this style (it starts with a reset).
    func sgr(colors: Bool) -> String {
        var codes = ["0"]
        if bold { codes.append("1") }
        if dim { codes.append("2") }
        if italic { codes.append("3") }
        if reverse { codes.append("7") }
        if colors, let color {
            switch color {
            case .basic(let n): codes.append("\(30 + Int(n % 8))")
            case .indexed(let n): codes.append("38;5;\(n)")
            case .rgb(let r, let g, let b): codes.append("38;2;\(r);\(g);\(b)")
            }
        }
        return "\u{1B}[" + codes.joined(separator: ";") + "m"
    }
}

/// A run of text in one style.
struct TerminalSpan: Sendable {
    var text: String
    var style: TerminalStyle
    /// Someone's message text: drawn between FSI and PDI (Unicode bidi isolation).
    var isolated = false

    init(_ text: String, _ style: TerminalStyle = .plain, isolated: Bool = false) {
        self.text = text
        self.style = style
        self.isolated = isolated
    }
}

/// One scrollback entry: a prefix (marker, nick) whose width continuation rows are
/// indented by, and a body.
struct TerminalLine: Sendable {
    var prefix: [TerminalSpan]
    var body: [TerminalSpan]
    /// The message id of one's own room message, whose delivery mark is updated later.
    var messageID: String?

    init(prefix: [TerminalSpan] = [], _ body: [TerminalSpan]) {
        self.prefix = prefix
        self.body = body
    }
}

// MARK: - Cells

/// One character as the terminal shows it: printable, with its column width.
struct TerminalCell: Equatable, Sendable {
    var character: Character
    var width: Int
    var style: TerminalStyle
    var isolated = false

    static let lineBreak = TerminalCell(character: "\n", width: 0, style: .plain)
    var isLineBreak: Bool { character == "\n" }
    var isSpace: Bool { character == " " }
}

enum TerminalText {
    /// Cells for `text`: controls neutralised, tabs as a space, newlines as line breaks
    /// (`keepingNewlines`) or spaces.
    static func cells(_ text: String, _ style: TerminalStyle, keepingNewlines: Bool = true, isolated: Bool = false) -> [TerminalCell] {
        var cells: [TerminalCell] = []
        cells.reserveCapacity(text.utf8.count)
        for character in sanitized(text, keepingNewlines: keepingNewlines) {
            if character == "\n" {
                cells.append(.lineBreak)
                continue
            }
            let (shown, width) = displayed(character)
            cells.append(TerminalCell(character: shown, width: width, style: style, isolated: isolated))
        }
        return cells
    }

    static func cells(_ spans: [TerminalSpan]) -> [TerminalCell] {
        spans.flatMap { cells($0.text, $0.style, isolated: $0.isolated) }
    }

    /// The text with every C0/C1 control, DEL and bidi embedding, override and isolate
    /// replaced as `MessageText` does (defence in depth: the client has sanitised it
    /// already); "\n" kept or made a space, "\t" a space.
    static func sanitized(_ text: String, keepingNewlines: Bool = true) -> String {
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A: result.append(keepingNewlines ? "\n" : " ")
            case 0x09: result.append(" ")
            case 0x0D: continue
            default: result.append(MessageText.isNeutralised(scalar) ? "\u{FFFD}" : scalar)
            }
        }
        return String(result)
    }

    /// How a character is drawn and how many columns it takes. A cluster that starts
    /// with a combining mark gets a space to sit on, so it cannot combine with a cell
    /// drawn before it.
    static func displayed(_ character: Character) -> (Character, Int) {
        let scalars = character.unicodeScalars
        guard let first = scalars.first else { return (" ", 1) }
        let firstWidth = width(of: first)
        if firstWidth == 0 {
            var spaced = String.UnicodeScalarView([" "])
            spaced.append(contentsOf: scalars)
            return (Character(String(spaced)), 1)
        }
        // An emoji presentation selector, a ZWJ sequence or a flag makes the cluster wide.
        if firstWidth == 1, scalars.count > 1,
           scalars.contains(where: { $0.value == 0xFE0F }) && first.properties.isEmoji {
            return (character, 2)
        }
        return (character, firstWidth)
    }

    /// Columns taken by one scalar: 0 for combining and format characters, 2 for East
    /// Asian wide and fullwidth characters and emoji presented as such, else 1.
    static func width(of scalar: Unicode.Scalar) -> Int {
        let value = scalar.value
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if (0x1160...0x11FF).contains(value) { return 0 }  // Hangul medial vowels and final consonants
        if isWide(value) || scalar.properties.isEmojiPresentation { return 2 }
        return 1
    }

    private static func isWide(_ value: UInt32) -> Bool {
        switch value {
        case 0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x2E80...0x303E, 0x3041...0x33FF,
             0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3,
             0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
             0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x2FFFD, 0x30000...0x3FFFD:
            return true
        default:
            return false
        }
    }

    static func width(_ text: String) -> Int {
        cells(text, .plain, keepingNewlines: false).reduce(0) { $0 + $1.width }
    }

    static func width(_ cells: some Collection<TerminalCell>) -> Int {
        cells.reduce(0) { $0 + $1.width }
    }

    // MARK: - Wrapping

    /// Rows of at most `width` columns, broken at spaces (the space is dropped) so that
    /// a word, a fingerprint's group or a pin moves whole to the next row when it fits
    /// there. A word longer than a row breaks after its last `:`, `-` or `/` that fits,
    /// or after a wide character (CJK text has no spaces), else where the row ends.
    /// Line-break cells force a break; rows after the first start with `indent` blank columns.
    static func wrap(_ cells: [TerminalCell], width: Int, indent requestedIndent: Int) -> [[TerminalCell]] {
        let width = max(width, 1)
        let indent = requestedIndent <= width / 2 ? requestedIndent : 0
        let indentCells = Array(repeating: TerminalCell(character: " ", width: 1, style: .plain), count: indent)
        var rows: [[TerminalCell]] = []
        var row: [TerminalCell] = []
        var rowWidth = 0
        var rowStart = 0  // cells before this index are indentation

        func newRow(carrying carry: ArraySlice<TerminalCell> = []) {
            rows.append(row)
            row = indentCells + carry
            rowWidth = indent + TerminalText.width(carry)
            rowStart = indent
        }
        /// A break where spaces were: they are not drawn.
        func softBreak() {
            while row.count > rowStart, row.last?.isSpace == true { row.removeLast() }
            newRow()
        }

        var index = 0
        while index < cells.count {
            let cell = cells[index]
            if cell.isLineBreak || cell.isSpace {
                if cell.isLineBreak { newRow() } else if rowWidth + cell.width > width { softBreak() } else {
                    row.append(cell)
                    rowWidth += cell.width
                }
                index += 1
                continue
            }
            var end = index
            while end < cells.count, !cells[end].isSpace, !cells[end].isLineBreak { end += 1 }
            // A cell wider than the whole row (a wide character on a 1-column screen).
            let word = cells[index..<end].map { $0.width > width ? TerminalCell(character: "?", width: 1, style: $0.style, isolated: $0.isolated) : $0 }
            index = end
            // The word, or where it may first break, must fit after the text before it.
            let firstPiece = word.firstIndex(where: isBreakAfter).map { word[...$0] } ?? word[...]
            let fitsFresh = indent + TerminalText.width(word) <= width
            if rowWidth + TerminalText.width(fitsFresh ? word[...] : firstPiece) > width, row.count > rowStart { softBreak() }
            var breakAfter: Int?  // where in `row` the word may break
            for cell in word {
                if rowWidth + cell.width > width, row.count > rowStart {
                    if let at = breakAfter, at > rowStart {
                        let carry = row[at...]
                        row.removeSubrange(at...)
                        newRow(carrying: carry)
                    } else {
                        newRow()
                    }
                    breakAfter = nil
                }
                row.append(cell)
                rowWidth += cell.width
                if isBreakAfter(cell) { breakAfter = row.count }
            }
        }
        rows.append(row)
        return rows
    }

    private static func isBreakAfter(_ cell: TerminalCell) -> Bool {
        cell.width == 2 || cell.character == ":" || cell.character == "-" || cell.character == "/"
    }

    // MARK: - Output

    static let firstStrongIsolate: Unicode.Scalar = "\u{2068}"
    static let popDirectionalIsolate: Unicode.Scalar = "\u{2069}"

    /// The escape-sequence form of a row of cells, ending in a reset; each run of
    /// isolated cells between FSI and PDI.
    static func render(_ cells: some Sequence<TerminalCell>, colors: Bool) -> String {
        var output = String.UnicodeScalarView()
        var current: TerminalStyle?
        var isolating = false
        for cell in cells {
            if cell.isolated != isolating {
                output.append(isolating ? popDirectionalIsolate : firstStrongIsolate)
                isolating = cell.isolated
            }
            if cell.style != current {
                output += cell.style.sgr(colors: colors).unicodeScalars
                current = cell.style
            }
            output += cell.character.unicodeScalars
        }
        if isolating { output.append(popDirectionalIsolate) }
        if current != nil { output += "\u{1B}[0m".unicodeScalars }
        return String(output)
    }
}
