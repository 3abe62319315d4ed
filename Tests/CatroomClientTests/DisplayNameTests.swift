@testable import CatroomClient
import Testing

/// Display names (CR-0006 §5.4): what is refused, how names are normalised, and when two
/// names look alike (the confusable skeleton of UTS #39 §4).
@Suite struct DisplayNameTests {
    @Test func theGeneratedTableLoadsWhole() {
        #expect(Confusables.prototypes.count == 2527)
    }

    /// UTS #39's own examples and the classic ones: Cyrillic for Latin, "rn" for "m",
    /// digits for letters.
    @Test(arguments: [
        ("paypal", "p\u{0430}yp\u{0430}l"),
        ("scope", "\u{0455}\u{0441}\u{043E}\u{0440}\u{0435}"),
        ("m", "rn"),
        ("all", "a1l"),
        ("BOO", "B0\u{041E}"),
        ("Alice", "\u{0410}lice"),
        ("\u{00E9}", "e\u{0301}"),
    ])
    func lookalikesHaveOneSkeleton(a: String, b: String) {
        #expect(DisplayName.clash(a, b))
    }

    @Test(arguments: [("bob", "rob"), ("alice", "Alice"), ("ab", "abc"), ("bob", "bob ")])
    func differentNamesDoNotClash(a: String, b: String) {
        #expect(!DisplayName.clash(a, b))
    }

    @Test func skeletonIsNFDMappedThenNFDAgain() {
        // U+0430 maps to "a"; U+00E9 decomposes to e + U+0301.
        #expect(Confusables.skeleton("\u{0430}\u{00E9}") == ["a", "e", "\u{0301}"])
    }

    @Test(arguments: [
        ("frank#1a2b3c4d", DisplayName.Refusal.numberSign),
        ("frank\u{FF03}1a2b", .numberSign),
        ("\u{202E}kcab", .bidiControl("\u{202E}")),
        ("bob\u{2067}", .bidiControl("\u{2067}")),
        ("bo\u{200B}b", .invisible("\u{200B}")),
        ("b\u{200D}ob", .invisible("\u{200D}")),
        ("bob\u{FE0F}", .invisible("\u{FE0F}")),
        ("\u{3164}", .invisible("\u{1160}")),  // NFKC maps the Hangul filler to U+1160 first
        ("\u{2800}", .invisible("\u{2800}")),
        ("a\u{1B}[2J", .control("\u{1B}")),
        ("tab\there", .control("\t")),
        ("   ", .empty),
    ])
    func refusedNames(name: String, refusal: DisplayName.Refusal) {
        #expect(throws: refusal) { try DisplayName.check(name) }
    }

    @Test func namesAreNormalisedCollapsedAndCut() throws {
        #expect(try DisplayName.check("  many   spaces\u{3000}here ") == "many spaces here")
        #expect(try DisplayName.check("\u{FF42}\u{FF4F}\u{FF42}") == "bob")
        #expect(try DisplayName.check("e\u{0301}lodie") == "\u{00E9}lodie")
        #expect(try DisplayName.check(String(repeating: "x", count: 40)) == String(repeating: "x", count: 32))
        #expect(try DisplayName.check("\u{05E9}\u{05DC}\u{05D5}\u{05DD}") == "\u{05E9}\u{05DC}\u{05D5}\u{05DD}")
    }
}
