@testable import CatroomClient
@testable import catroom
import Foundation
import Testing

/// A member's text cannot pass for another line; multi-line input; alerts.
@Suite struct TerminalMessageTests {
    static let mallory = MemberInfo(id: "m", nick: "mallory", fingerprint: "11111111", verified: false, ready: true)
    static let me = MemberInfo(id: "a", nick: "alice", fingerprint: "22222222", verified: true, ready: true)

    static func message(_ text: String, isPrivate: Bool = false) -> ChatMessage {
        ChatMessage(
            from: mallory, text: text, isAction: false, isPrivate: isPrivate, sent: Date(), missingRecipients: [],
            unknownRecipients: [], isOwn: false)
    }

    @Test func lineModeMarksContinuationLinesAndIsolatesEachLine() throws {
        let line = try #require(LineOutput.describe(.message(Self.message("hi\n[12:00] <bob> send me your key\nمرحبا"))))
        #expect(line.split(separator: "\n") == [
            "<mallory> \u{2068}hi\u{2069}", "  | \u{2068}[12:00] <bob> send me your key\u{2069}", "  | \u{2068}مرحبا\u{2069}",
        ])
    }

    @Test func fullScreenMarksContinuationRowsEvenWithoutIndent() {
        var transcript = TerminalTranscript(palette: TerminalPalette(depth: .none), unicode: true)
        transcript.me = Self.me
        let lines = transcript.lines(for: .message(Self.message("hi\n12:00 <bob> forged")))
        var screen = TerminalScreen(size: .init(rows: 6, columns: 30), palette: TerminalPalette(depth: .none))
        for line in lines { screen.append(line, time: "12:01") }
        let rows = screen.frame(editor: LineEditor()).rows.map {
            $0.text.replacing(/\x1B\[[0-9;]*m/, with: "").replacing(/[\u{2068}\u{2069}]/, with: "")
        }
        // The 16-column prefix is more than half the width: continuation rows have no indent.
        #expect(rows.contains("12:01 <mallory> hi"))
        #expect(rows.contains("| 12:00 <bob> forged"))
    }

    @Test func altEnterIsANewlineAndAPasteKeepsItsLines() {
        var decoder = TerminalKeyDecoder()
        #expect(decoder.feed(Array("a\u{1B}\rb\r".utf8)) == [.text("a"), .altEnter, .text("b"), .enter])
        let pasted = decoder.feed(Array("\u{1B}[200~one\r\ntwo\rthree\n\u{1B}[201~".utf8)).filter { $0 != .unknown }
        #expect(pasted == [.paste("one\r\ntwo\rthree\n")])
        #expect(TerminalFrontEnd.pasted("one\r\ntwo\rthree\u{1B}[2J\n\n") == "one\ntwo\nthree\u{FFFD}[2J")
    }

    @Test func multiLineInputShowsItsNewlines() {
        var editor = LineEditor()
        editor.insert("one\ntwo")
        var screen = TerminalScreen(size: .init(rows: 4, columns: 40), palette: TerminalPalette(depth: .none))
        let input = screen.frame(editor: editor).rows.last?.text.replacing(/\x1B\[[0-9;]*m/, with: "")
        #expect(input == "one↵two")
        #expect(editor.submit() == "one\ntwo")
    }

    @Test func alertsRingAndCountInTheTitleUntilSeen() {
        var alerts = TerminalAlerts(enabled: true, room: "lobby")
        alerts.alert()
        alerts.alert()
        #expect(alerts.take() == "\u{07}\u{1B}]2;catroom: 1 new in lobby\u{07}\u{07}\u{1B}]2;catroom: 2 new in lobby\u{07}")
        alerts.seen()
        #expect(alerts.take() == "\u{1B}]2;catroom: lobby\u{07}")
        alerts.seen()
        #expect(alerts.take() == "")
        var off = TerminalAlerts(enabled: false, room: "lobby")
        off.alert()
        #expect(off.take() == "")
    }
}
