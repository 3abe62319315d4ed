#if CATROOM_FUZZ_CLIENT
@testable import CatroomClient
import Foundation

// Hello and chat payloads (`ChatPayload`, CR-0006 §5.3). Input: the plaintext a message
// opened to. Invariants:
// - decoding is deterministic;
// - it agrees with `PayloadReader`, a second reading of §5.3 (repeated names compared as
//   code points, unpaired surrogates, integral numbers however written): readable or not
//   alike, and a readable payload says the same type, ts, nick, body, invite and acks;
// - a readable payload re-encodes to bytes written as §5.3 asks (a multiple of 64) that
//   both readers read back to the same value.

extension FuzzTarget {
    static let payload = FuzzTarget(name: "payload") { bytes in
        let plaintext = Array(bytes)
        let decoded = try? ChatPayload.decode(plaintext)
        invariant((try? ChatPayload.decode(plaintext)) == decoded, "decoding the same bytes twice differs")
        let expected = PayloadReader.read(plaintext)
        invariant(
            decoded.map(PayloadCheck.reading) == expected,
            "ChatPayload read \(decoded.map { "\($0)" } ?? "nothing"), §5.3 reads \(expected.map { "\($0)" } ?? "nothing") "
                + "from \(String(decoding: plaintext, as: UTF8.self))")
        guard let decoded else { return }
        let encoded = decoded.encoded()
        invariant(encoded.count % ChatPayload.padding == 0, "an encoding of \(encoded.count) bytes")
        invariant((try? ChatPayload.decode(encoded)) == decoded, "\(decoded) does not survive encoding")
        invariant(PayloadReader.read(encoded) == expected, "\(decoded) encodes to what §5.3 reads otherwise")
    } seeds: {
        PayloadCheck.seeds
    }
}

enum PayloadCheck {
    static func reading(_ payload: ChatPayload) -> PayloadReader.Payload {
        PayloadReader.Payload(
            type: Array(payload.type.name.unicodeScalars), ts: payload.ts, nick: payload.nick.map { Array($0.unicodeScalars) },
            body: payload.body.map { Array($0.unicodeScalars) }, invite: payload.invite.map { Array($0.unicodeScalars) },
            acks: payload.acks?.map { [$0.sender, $0.id, $0.digest].map { Array($0.unicodeScalars) } })
    }

    /// One payload of each type as a client writes it.
    static var seeds: [String: [UInt8]] {
        let ack = Transcript.Ack(sender: String(repeating: "a", count: 32), id: String(repeating: "0", count: 32), digest: String(repeating: "f", count: 64))
        let at = Date(timeIntervalSince1970: 1_795_330_800)
        var hello = ChatPayload(.hello, nick: "alice", at: at)
        hello.invite = String(repeating: "A", count: 43) + "="
        return [
            "hello": hello.encoded(),
            "text": ChatPayload(.text, body: "hi \u{1F600} \"quoted\" \\ / \u{01}", acks: [ack], at: at).encoded(),
            "action": ChatPayload(.action, body: "waves", at: at).encoded(),
            "nick": ChatPayload(.nick, nick: "al\u{0301}ice", at: at).encoded(),
            "ack": ChatPayload(.ack, acks: [ack, ack], at: at).encoded(),
        ]
    }
}
#endif
