@testable import CatroomClient
import CatroomCrypto
import Testing

/// The transcript-consistency state machine alone (CR-0006 §5.8), without sockets.
@Suite struct TranscriptTests {
    let id1: [UInt8] = Array(repeating: 1, count: 16)
    let id2: [UInt8] = Array(repeating: 2, count: 16)
    let d1: [UInt8] = Array(repeating: 0xd1, count: 32)
    let d2: [UInt8] = Array(repeating: 0xd2, count: 32)

    func ack(_ sender: String, _ id: [UInt8], _ digest: [UInt8]) -> Transcript.Ack {
        Transcript.Ack(sender: sender, id: id.hexString, digest: digest.hexString)
    }

    @Test func matchingAcknowledgementsFindNothing() {
        var transcript = Transcript()
        #expect(transcript.accept(sender: Ids.alice, messageID: id1, digest: d1, acknowledge: true).isEmpty)
        #expect(transcript.received([ack(Ids.alice, id1, d1)], from: Ids.bob, me: Ids.me).isEmpty)
        #expect(transcript.takeOwed() == [ack(Ids.alice, id1, d1)])
        #expect(transcript.owed.isEmpty)
    }

    @Test func anotherDigestIsADivergenceEitherOrder() {
        var first = Transcript()
        _ = first.accept(sender: Ids.alice, messageID: id1, digest: d1, acknowledge: true)
        #expect(first.received([ack(Ids.alice, id1, d2)], from: Ids.bob, me: Ids.me)
            == [.divergence(sender: Ids.alice, messageID: id1.hexString, witness: Ids.bob)])
        // The acknowledgement overtakes the message: compared when it arrives.
        var second = Transcript()
        #expect(second.received([ack(Ids.alice, id1, d2)], from: Ids.bob, me: Ids.me).isEmpty)
        #expect(second.accept(sender: Ids.alice, messageID: id1, digest: d1, acknowledge: true)
            == [.divergence(sender: Ids.alice, messageID: id1.hexString, witness: Ids.bob)])
    }

    @Test func ownMessagesCountTheirAcknowledgementsOnce() {
        var transcript = Transcript()
        transcript.sent(messageID: id1, digest: d1, me: Ids.me, recipients: [Ids.bob, Ids.carol])
        let first = transcript.received([ack(Ids.me, id1, d1)], from: Ids.bob, me: Ids.me)
        #expect(first == [.delivery(messageID: id1.hexString, acknowledged: [Ids.bob], recipients: [Ids.bob, Ids.carol])])
        #expect(transcript.received([ack(Ids.me, id1, d1)], from: Ids.bob, me: Ids.me).isEmpty)
        // Someone it was not sent to cannot count as a recipient.
        #expect(transcript.received([ack(Ids.me, id1, d1)], from: Ids.mallory, me: Ids.me).isEmpty)
        #expect(transcript.delivery(of: id1.hexString)?.acknowledged == [Ids.bob])
        #expect(transcript.lastSent == id1.hexString)
    }

    @Test func malformedAndSelfNamingAcknowledgementsAreIgnored() {
        var transcript = Transcript()
        let id: [UInt8] = Array(repeating: 0xab, count: 16)
        _ = transcript.accept(sender: Ids.alice, messageID: id, digest: d1, acknowledge: true)
        let upper = Transcript.Ack(sender: Ids.alice, id: id.hexString.uppercased(), digest: d2.hexString)
        let short = Transcript.Ack(sender: Ids.alice, id: id.hexString, digest: "d2")
        #expect(transcript.received([upper, short, ack(Ids.bob, id, d2)], from: Ids.bob, me: Ids.me).isEmpty)
        #expect(transcript.received([ack(Ids.alice, id, d2)], from: Ids.bob, me: Ids.me).count == 1)
    }

    @Test func acknowledgementOnlyMessagesAreNotOwedAnAcknowledgement() {
        var transcript = Transcript()
        _ = transcript.accept(sender: Ids.alice, messageID: id1, digest: d1, acknowledge: false)
        #expect(transcript.owed.isEmpty)
        _ = transcript.accept(sender: Ids.alice, messageID: id2, digest: d2, acknowledge: true)
        _ = transcript.accept(sender: Ids.alice, messageID: id2, digest: d2, acknowledge: true)
        #expect(transcript.owed.count == 1)
    }

    @Test func atMostSixtyFourAcknowledgementsPerPayload() {
        var transcript = Transcript()
        for n in 0..<100 {
            _ = transcript.accept(sender: Ids.alice, messageID: Array(repeating: UInt8(n), count: 16), digest: d1, acknowledge: true)
        }
        #expect(transcript.takeOwed().count == 64)
        #expect(transcript.takeOwed().count == 36)
    }

    @Test func memoryIsBounded() {
        var transcript = Transcript()
        for n in 0..<(Transcript.rememberedMessages + 10) {
            let id = withUnsafeBytes(of: UInt64(n).bigEndian) { Array($0) } + Array(repeating: 0, count: 8)
            _ = transcript.received([ack(Ids.alice, id, d1)], from: Ids.bob, me: Ids.me)
            _ = transcript.accept(sender: Ids.carol, messageID: id, digest: d1, acknowledge: false)
        }
        // The oldest claim was forgotten: its message arriving now is not compared.
        let oldest = withUnsafeBytes(of: UInt64(0).bigEndian) { Array($0) } + Array(repeating: 0, count: 8)
        #expect(transcript.accept(sender: Ids.alice, messageID: oldest, digest: d2, acknowledge: false).isEmpty)
    }
}

/// The payload's decoding rules (CR-0006 §5.3).
@Suite struct ChatPayloadTests {
    func padded(_ json: String) -> [UInt8] {
        var bytes = Array(json.utf8)
        bytes += Array(repeating: 0x20, count: (64 - bytes.count % 64) % 64)
        return bytes
    }

    @Test func roundTripWithAcknowledgements() throws {
        let acks = [Transcript.Ack(sender: Ids.alice, id: String(repeating: "0a", count: 16), digest: String(repeating: "0b", count: 32))]
        let payload = ChatPayload(.text, body: "hi", acks: acks)
        let encoded = payload.encoded()
        #expect(encoded.count % 64 == 0)
        #expect(try ChatPayload.decode(encoded) == payload)
    }

    @Test func paddingIsRequired() {
        let json = #"{"body":"hi","ts":1,"type":"text","v":1}"#
        #expect(throws: ChatPayload.Unreadable.self) { try ChatPayload.decode(Array(json.utf8)) }
        #expect(throws: ChatPayload.Unreadable.self) { try ChatPayload.decode([]) }
        #expect(throws: Never.self) { try ChatPayload.decode(padded(json)) }
    }

    @Test func anUnknownTypeIsUnsupportedNotUnreadable() throws {
        let payload = try ChatPayload.decode(padded(#"{"ts":1,"type":"poll","v":1}"#))
        #expect(payload.type == .unsupported("poll"))
        #expect(throws: ChatPayload.Unreadable.self) { try ChatPayload.decode(padded(#"{"ts":1,"type":"text","v":2}"#)) }
        #expect(throws: ChatPayload.Unreadable.self) { try ChatPayload.decode(padded(#"["text"]"#)) }
    }
}

/// Account ids in the CR-0001 §5.1 form: acknowledgements name nothing else (CR-0006 §5.8).
private enum Ids {
    static let alice = String(repeating: "a", count: 32)
    static let bob = String(repeating: "b", count: 32)
    static let carol = String(repeating: "c", count: 32)
    static let mallory = String(repeating: "m", count: 32)
    static let me = String(repeating: "2", count: 32)
}
