import Foundation

/// The input line: editing (Emacs keys, as in readline), the history of submitted
/// lines, a kill buffer, and tab completion of command names and nicks. A value with
/// no I/O; the front end maps keys to its methods.
struct LineEditor {
    private(set) var text: [Character] = []
    /// Where the next character goes, 0...text.count.
    private(set) var cursor = 0
    private var history: [String] = []
    /// The history entry shown, while walking the history.
    private var historyIndex: Int?
    /// The line being written before walking into the history.
    private var draft: [Character] = []
    private var killed: [Character] = []
    private var completion: Completion?

    static let historyLimit = 1000

    /// Candidates offered by repeated Tab, and where the last one was put.
    private struct Completion {
        let start: Int
        var end: Int
        let candidates: [String]
        var index: Int
    }

    var line: String { String(text) }
    var isEmpty: Bool { text.isEmpty }

    // MARK: - Editing

    /// Inserts at the cursor. What is typed may join the character before it into one
    /// (a combining accent after its letter, the halves of a ZWJ emoji sequence), so the
    /// line is split into characters again.
    mutating func insert(_ string: String) {
        completion = nil
        let before = String(text[..<cursor]) + string
        text = Array(before + String(text[cursor...]))
        cursor = min(before.count, text.count)
    }

    mutating func backspace() {
        completion = nil
        guard cursor > 0 else { return }
        cursor -= 1
        text.remove(at: cursor)
    }

    mutating func deleteForward() {
        completion = nil
        guard cursor < text.count else { return }
        text.remove(at: cursor)
    }

    mutating func moveLeft() { move(to: cursor - 1) }
    mutating func moveRight() { move(to: cursor + 1) }
    mutating func moveHome() { move(to: 0) }
    mutating func moveEnd() { move(to: text.count) }
    mutating func moveWordLeft() { move(to: wordStart(before: cursor)) }
    mutating func moveWordRight() { move(to: wordEnd(after: cursor)) }

    private mutating func move(to position: Int) {
        completion = nil
        cursor = min(max(position, 0), text.count)
    }

    /// Ctrl-U: deletes from the start of the line to the cursor.
    mutating func killToStart() { kill(0..<cursor) }
    /// Ctrl-K: deletes from the cursor to the end of the line.
    mutating func killToEnd() { kill(cursor..<text.count) }
    /// Ctrl-W: deletes the word before the cursor (and the spaces after it).
    mutating func killWordBackward() { kill(wordStart(before: cursor)..<cursor) }
    /// Alt-D: deletes the word after the cursor.
    mutating func killWordForward() { kill(cursor..<wordEnd(after: cursor)) }

    /// Ctrl-Y: puts back what was last deleted.
    mutating func yank() { insert(String(killed)) }

    private mutating func kill(_ range: Range<Int>) {
        completion = nil
        guard !range.isEmpty else { return }
        killed = Array(text[range])
        text.removeSubrange(range)
        cursor = range.lowerBound
    }

    private func wordStart(before position: Int) -> Int {
        var index = position
        while index > 0, text[index - 1] == " " { index -= 1 }
        while index > 0, text[index - 1] != " " { index -= 1 }
        return index
    }

    private func wordEnd(after position: Int) -> Int {
        var index = position
        while index < text.count, text[index] == " " { index += 1 }
        while index < text.count, text[index] != " " { index += 1 }
        return index
    }

    // MARK: - History

    /// Up: the previous submitted line (the line being written is kept for Down).
    mutating func historyPrevious() {
        completion = nil
        guard !history.isEmpty else { return }
        let index: Int
        if let current = historyIndex {
            guard current > 0 else { return }
            index = current - 1
        } else {
            draft = text
            index = history.count - 1
        }
        historyIndex = index
        replace(with: Array(history[index]))
    }

    /// Down: the next submitted line, and after the newest the line being written.
    mutating func historyNext() {
        completion = nil
        guard let current = historyIndex else { return }
        if current + 1 < history.count {
            historyIndex = current + 1
            replace(with: Array(history[current + 1]))
        } else {
            historyIndex = nil
            replace(with: draft)
        }
    }

    private mutating func replace(with characters: [Character]) {
        text = characters
        cursor = characters.count
    }

    /// Enter: the line, now in the history; the editor is empty again.
    mutating func submit() -> String {
        let submitted = line
        if !submitted.trimmingCharacters(in: .whitespaces).isEmpty, history.last != submitted {
            history.append(submitted)
            if history.count > Self.historyLimit { history.removeFirst(history.count - Self.historyLimit) }
        }
        text = []
        cursor = 0
        historyIndex = nil
        draft = []
        completion = nil
        return submitted
    }

    // MARK: - Completion

    /// Tab: completes the word before the cursor, a command name after a leading `/`,
    /// else a nick (followed by ": " at the start of the line, by " " elsewhere).
    /// Repeated Tab cycles through the candidates; `backward` (Shift-Tab) goes back.
    mutating func complete(commands: [String], nicks: [String], backward: Bool = false) {
        if var current = completion {
            let count = current.candidates.count
            current.index = (current.index + (backward ? count - 1 : 1)) % count
            put(current.candidates[current.index], over: current.start..<current.end)
            current.end = cursor
            completion = current
            return
        }
        var start = cursor
        while start > 0, text[start - 1] != " " { start -= 1 }
        let word = String(text[start..<cursor]).lowercased()
        let candidates: [String]
        if start == 0, word.hasPrefix("/") {
            let name = word.dropFirst()
            candidates = commands.filter { $0.lowercased().hasPrefix(name) }.map { "/" + $0 + " " }
        } else {
            let suffix = start == 0 ? ": " : " "
            candidates = nicks.filter { $0.lowercased().hasPrefix(word) }.map { $0 + suffix }
        }
        guard !candidates.isEmpty else { return }
        let index = backward ? candidates.count - 1 : 0
        put(candidates[index], over: start..<cursor)
        completion = Completion(start: start, end: cursor, candidates: candidates, index: index)
    }

    private mutating func put(_ replacement: String, over range: Range<Int>) {
        let characters = Array(replacement)
        text.replaceSubrange(range, with: characters)
        cursor = range.lowerBound + characters.count
    }
}
