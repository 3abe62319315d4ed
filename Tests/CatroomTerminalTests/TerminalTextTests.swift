import Foundation
@testable import catroom
import Testing

/// Real strings on their way to the screen: every character kept, each cluster as wide
/// as a terminal draws it (tmux 3.3 agrees on each of these), message text isolated for bidi.
@Suite struct TerminalTextTests {
    static let fsi = "\u{2068}", pdi = "\u{2069}"

    @Test(arguments: [
        ("👩‍💻", 2), ("👨‍👩‍👧", 2), ("می‌خواهم", 7), ("क्‍ष", 1), ("e\u{301}", 1), ("日本語", 6),
        ("مرحبا", 5), ("שלום", 4), ("a\u{FE0E}", 1),
    ])
    func widthCountsGraphemeClusters(text: String, columns: Int) {
        #expect(TerminalText.width(text) == columns)
        // Nothing is replaced or dropped on the way to cells.
        let cells = TerminalText.cells(text, .plain)
        #expect(String(cells.map(\.character)) == text)
    }

    @Test func joinersAndVariationSelectorsStayWhileBidiControlsGo() {
        let kept = "👩‍💻 می‌خواهم क्‍ष ❤️ e\u{301} \u{200F}"
        #expect(TerminalText.sanitized(kept) == kept)
        #expect(TerminalText.sanitized("a\u{202E}b\u{2066}c\u{2069}\u{1B}[2Jd\u{9B}e\u{7F}")
            == "a\u{FFFD}b\u{FFFD}c\u{FFFD}\u{FFFD}[2Jd\u{FFFD}e\u{FFFD}")
    }

    @Test func messageTextIsIsolatedOnEveryRow() {
        let cells = TerminalText.cells([TerminalSpan("<bob> "), TerminalSpan("שלום עולם hello", isolated: true)])
        let rows = TerminalText.wrap(cells, width: 12, indent: 6)
        #expect(rows.count == 3)
        #expect(TerminalText.render(rows[0], colors: false) == "\u{1B}[0m<bob> \(Self.fsi)שלום\(Self.pdi)\u{1B}[0m")
        #expect(TerminalText.render(rows[1], colors: false) == "\u{1B}[0m      \(Self.fsi)עולם\(Self.pdi)\u{1B}[0m")
        #expect(TerminalText.render(rows[2], colors: false) == "\u{1B}[0m      \(Self.fsi)hello\(Self.pdi)\u{1B}[0m")
    }

    @Test func wrappingKeepsFingerprintGroupsAndPinsWhole() {
        let fingerprint = "7e024c53 cd88768b 1f2e3d4c 5b6a7988 99aabbcc ddeeff00 11223344 55667788"
        for width in 12...80 {
            let rows = TerminalText.wrap(TerminalText.cells("   " + fingerprint, .plain), width: width, indent: 3)
            let words = rows.flatMap { String($0.map(\.character)).split(separator: " ") }
            #expect(words.joined(separator: " ") == fingerprint, "width \(width)")
        }
        // A pin longer than a row breaks only after a colon, never inside a byte.
        let pin = (0..<32).map { String(format: "%02X", $0 * 7 % 256) }.joined(separator: ":")
        for width in 20...120 {
            let rows = TerminalText.wrap(TerminalText.cells("-- pinned on first use: " + pin, .plain), width: width, indent: 3)
            let text = rows.map { String($0.map(\.character)) }
            let fragments = text.flatMap { $0.split(separator: " ") }.filter { $0.allSatisfy { $0 == ":" || $0.isHexDigit } }
            #expect(fragments.joined() == pin, "width \(width): \(text)")
            #expect(fragments.allSatisfy { $0.split(separator: ":").allSatisfy { $0.count == 2 } }, "width \(width): \(text)")
            #expect(rows.allSatisfy { TerminalText.width($0) <= width })
        }
        // Where the pin fits a row of its own, it is whole on one.
        let rows = TerminalText.wrap(TerminalText.cells("-- pinned on first use: " + pin, .plain), width: 100, indent: 3)
        #expect(rows.map { String($0.map(\.character)) }.contains("   " + pin))
    }

    @Test func typingAClusterInPiecesMakesOneCharacter() {
        var editor = LineEditor()
        for piece in ["👩", "\u{200D}", "💻", "e", "\u{301}"] { editor.insert(piece) }
        #expect(editor.text == ["👩‍💻", "e\u{301}"])
        #expect(editor.cursor == 2)
        editor.moveLeft()
        editor.insert("x")
        #expect(editor.line == "👩‍💻xe\u{301}" && editor.cursor == 2)
    }
}
