@testable import CatroomClient
@testable import catroom
import Foundation
import Testing

/// Buffers and search in the full-screen view, without a terminal.
@Suite struct TerminalBuffersTests {
    static let palette = TerminalPalette(depth: .none)

    @Test func searchScrollsBackToEachOlderMatchThenSaysNone() {
        var screen = TerminalScreen(size: .init(rows: 6, columns: 30), palette: Self.palette)
        screen.append(TerminalLine(prefix: [], [TerminalSpan("the Needle line")]), time: "10:00")
        for n in 0..<10 { screen.append(TerminalLine(prefix: [], [TerminalSpan("filler \(n)")]), time: "10:01") }
        screen.append(TerminalLine(prefix: [], [TerminalSpan("a needle again")]), time: "10:02")
        for n in 10..<20 { screen.append(TerminalLine(prefix: [], [TerminalSpan("filler \(n)")]), time: "10:03") }
        func text(_ screen: inout TerminalScreen) -> String { screen.frame(editor: LineEditor()).rows.map(\.text).joined(separator: "\n") }
        let found1 = screen.search("NEEDLE")
        #expect(found1)
        var shown = text(&screen)
        #expect(shown.contains("a needle again") && !shown.contains("filler 19"))
        let found2 = screen.search("needle")
        #expect(found2)
        shown = text(&screen)
        #expect(shown.contains("the Needle line"))
        let found3 = screen.search("needle")
        #expect(!found3)
        screen.scrollToBottom()
        shown = text(&screen)
        #expect(shown.contains("filler 19"))
        let found4 = screen.search("absent")
        #expect(!found4)
    }

    @Test func searchFindsMessageLines() {
        var screen = TerminalScreen(size: .init(rows: 6, columns: 30), palette: Self.palette)
        let transcript = TerminalTranscript(palette: Self.palette, unicode: true)
        let bob = MemberInfo(id: "abcdefgh", nick: "bob", fingerprint: "", verified: false, ready: true)
        let message = ChatMessage(
            from: bob, text: "the needle line", isAction: false, isPrivate: false, sent: .now, missingRecipients: [],
            unknownRecipients: [], isOwn: false)
        for line in transcript.lines(for: .message(message)) { screen.append(line, time: "10:00") }
        for n in 0..<10 { screen.append(TerminalLine(prefix: [], [TerminalSpan("filler \(n)")]), time: "10:01") }
        let found = screen.search("NEEDLE")
        #expect(found)
    }

    @Test func buffersCountUnseenAndSwitchRoundTheList() {
        var buffers = TerminalBuffers(room: "lobby@rooms.example.org", size: .init(rows: 10, columns: 40), palette: Self.palette)
        let member = MemberInfo(id: "abcdefgh", nick: "bob", fingerprint: "", verified: false, ready: true)
        let second = buffers.position(of: .room("second@rooms.example.org"), room: "second@rooms.example.org")
        let bob = buffers.position(of: .peer("abcdefgh"), room: "lobby@rooms.example.org", member: member)
        #expect(buffers.position(of: .room("second@rooms.example.org"), room: "second@rooms.example.org") == second)
        #expect(buffers.list.map(\.name) == ["lobby", "second", "bob"])
        buffers[bob].unread = 2
        buffers[bob].highlighted = true
        #expect(buffers.index == 0)
        buffers.step(forward: false)
        #expect(buffers.index == bob && buffers.current.unread == 0 && !buffers.current.highlighted)
        #expect(buffers.find("2") == second && buffers.find("BOB") == bob && buffers.find("second@rooms.example.org") == second)
        #expect(buffers.find("9") == nil)
        buffers.close(bob, then: .room("lobby@rooms.example.org"))
        #expect(buffers.index == 0 && buffers.list.count == 2)
        buffers.close(1)
        buffers.close(0)   // the last buffer stays
        #expect(buffers.list.count == 1)
    }

    @Test func buffersAndScrollbackHaveTheirKeys() {
        var decoder = TerminalKeyDecoder()
        let keys = decoder.feed(Array("\u{1B}2\u{1B}[1;3D\u{1B}[1;3C\u{1B}[1;5D\u{1B}[1;3H\u{1B}[1;3F\u{0E}\u{10}\u{12}".utf8))
        #expect(keys == [.alt("2"), .altLeft, .altRight, .wordLeft, .altHome, .altEnd, .control("n"), .control("p"), .control("r")])
    }
}
