@testable import CatroomClient
@testable import catroom
import CatroomCrypto
import Foundation
import Testing

/// With a profile, `/who` and `/contacts` say since when a member is verified.
@Suite struct ProfileLinesTests {
    /// Noon UTC: the same day in every time zone within twelve hours.
    static let day = Date(timeIntervalSince1970: 1_796_126_400)  // 2026-12-01T12:00:00Z
    static let bob = MemberInfo(id: "b", nick: "bob", fingerprint: "9f8e7d6c 11111111", verified: true, verifiedAt: day, ready: true)

    static func plain(_ lines: [TerminalLine]) -> [String] {
        lines.map { ($0.prefix + $0.body).map(\.text).joined() }
    }

    @Test func whoShowsTheDayOfTheVerification() throws {
        let line = try #require(LineOutput.describe(.members(me: nil, others: [Self.bob], safety: nil)))
        #expect(line.contains("   bob (9f8e7d6c) verified 2026-12-01"))
        let transcript = TerminalTranscript(palette: TerminalPalette(depth: .none), unicode: true)
        #expect(Self.plain(transcript.lines(for: .members(me: nil, others: [Self.bob], safety: nil))).contains { $0.hasSuffix("bob (9f8e7d6c) ✓ verified 2026-12-01") })
    }

    @Test func contactsListsNameFingerprintVerificationAndLastSeen() throws {
        let key = IdentityKeyPair.generate().publicKey
        let contact = KnownMembers.Contact(identity: key, name: "alice", verified: Self.day, firstSeen: Self.day, lastSeen: Self.day.addingTimeInterval(4 * 86_400))
        let short = String(key.fingerprint.prefix(8))
        let line = try #require(LineOutput.describe(.contacts([contact])))
        #expect(line == "-- 1 contact in your profile, 1 verified\n   alice (\(short)) verified 2026-12-01, last seen 2026-12-05")
        let transcript = TerminalTranscript(palette: TerminalPalette(depth: .none), unicode: true)
        #expect(Self.plain(transcript.lines(for: .contacts([contact]))).last?.hasSuffix("alice (\(short)) ✓ verified 2026-12-01, last seen 2026-12-05") == true)
    }
}
