@testable import CatroomClient
import CatroomCrypto
import Foundation
import Testing

/// xep/CR-0006-vectors.json: payload bytes and decoding (§5.3), acknowledgement
/// entries and a transcript trace (§5.8).
@Suite struct ClientVectorTests {
    struct Payload: Decodable { let name: String; let object: ChatPayload; let bytes: String }
    struct Decoding: Decodable, CustomTestStringConvertible {
        let name: String
        let bytes: String
        let outcome: String
        let type: String?
        let body: String?
        let ts: Int64?
        var testDescription: String { name }
    }
    struct AckEntry: Decodable { let name: String; let entry: Transcript.Ack; let wellFormed: Bool }
    struct Step: Decodable {
        struct SplitView: Decodable { let sender: String; let id: String; let witness: String }
        struct Delivery: Decodable { let id: String; let acknowledged: [String]; let recipients: [String] }
        struct Expect: Decodable { let splitView: SplitView?; let delivery: Delivery?; let carries: [Transcript.Ack]? }
        let name: String
        let op: String
        let sender: String?
        let witness: String?
        let id: String?
        let digest: String?
        let type: String?
        let acks: [Transcript.Ack]?
        let recipients: [String]?
        let expect: [Expect]
    }
    struct Trace: Decodable { let me: String; let steps: [Step] }
    struct InviteText: Decodable { let name: String; let text: String?; let outcome: String; let bytes: String? }
    struct TopicText: Decodable { let name: String; let raw: String; let shown: String }
    struct Claim: Decodable, Equatable { let topic: String?; let topicBy: String?; let topicTs: Int64? }
    struct TopicClaims: Decodable { let name: String; let claims: [Claim]; let shown: Claim? }
    struct File: Decodable {
        let topicTexts: [TopicText]
        let topicClaims: [TopicClaims]
        let payloads: [Payload]
        let decoding: [Decoding]
        let ackEntries: [AckEntry]
        let trace: Trace
        let inviteTexts: [InviteText]
    }

    static let file: File? = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appending(path: "xep/CR-0006-vectors.json")
        guard let data = try? Data(contentsOf: url) else { return nil }
        return try? JSONDecoder().decode(File.self, from: data)
    }()

    @Test func theFileIsRead() throws {
        let file = try #require(Self.file)
        #expect(!file.payloads.isEmpty && !file.decoding.isEmpty && !file.trace.steps.isEmpty)
    }

    @Test func topicsAreShownAsTheVectorsSay() throws {
        for vector in try #require(Self.file).topicTexts {
            #expect(RoomTopic.shown(vector.raw) == vector.shown, "\(vector.name)")
        }
    }

    /// CR-0006 §5.11: of the topics hellos report, a joiner shows one, whatever their order.
    @Test func aJoinerShowsTheTopicTheVectorsChoose() throws {
        for vector in try #require(Self.file).topicClaims {
            var shown: RoomTopic?
            for claim in vector.claims {
                guard let text = claim.topic, let by = claim.topicBy, let ts = claim.topicTs else { continue }
                let reported = RoomTopic(text: text, by: by, ts: ts)
                if shown.map(reported.supersedes) ?? true { shown = reported }
            }
            #expect(shown.map { Claim(topic: $0.text, topicBy: $0.by, topicTs: $0.ts) } == vector.shown, "\(vector.name)")
        }
    }

    @Test func payloadsAreWrittenByteForByte() throws {
        for payload in try #require(Self.file).payloads {
            #expect(payload.object.encoded() == [UInt8](hex: payload.bytes), "\(payload.name)")
        }
    }

    @Test(arguments: Self.file?.decoding ?? [])
    func decoding(_ vector: Decoding) throws {
        let bytes = try #require([UInt8](hex: vector.bytes))
        let payload = try? ChatPayload.decode(bytes)
        #expect((payload == nil ? "unreadable" : "readable") == vector.outcome)
        guard let payload else { return }
        if let type = vector.type { #expect(payload.type.name == type) }
        if let body = vector.body { #expect(payload.body == body) }
        if let ts = vector.ts { #expect(payload.ts == ts) }
    }

    @Test func acknowledgementEntries() throws {
        for vector in try #require(Self.file).ackEntries {
            #expect(vector.entry.isWellFormed == vector.wellFormed, "\(vector.name)")
        }
    }

    /// CR-0008 §5.4 steps 1 and 2; step 3 compares the bytes with the expected proof.
    @Test func inviteTexts() throws {
        for vector in try #require(Self.file).inviteTexts {
            let proof = Invitation.proof(fromText: vector.text)
            #expect((proof == nil ? "not-invited" : "compared") == vector.outcome, "\(vector.name)")
            if let bytes = vector.bytes { #expect(proof == [UInt8](hex: bytes)) }
        }
    }

    @Test func transcriptTrace() throws {
        let trace = try #require(Self.file).trace
        var transcript = Transcript()
        for step in trace.steps {
            var found: [String] = []
            switch step.op {
            case "accept":
                let findings = transcript.accept(
                    sender: try #require(step.sender), messageID: try bytes(step.id), digest: try bytes(step.digest),
                    acknowledge: step.type != "ack")
                found = findings.map(describe)
            case "acks":
                found = transcript.received(try #require(step.acks), from: try #require(step.witness), me: trace.me).map(describe)
            case "send":
                found = ["carries \(transcript.takeOwed())"]
                transcript.sent(messageID: try bytes(step.id), digest: try bytes(step.digest), me: trace.me, recipients: try #require(step.recipients))
            default:
                Issue.record("unknown op \(step.op)")
            }
            #expect(found == step.expect.map(describe), "\(step.name)")
        }
    }

    private func bytes(_ hex: String?) throws -> [UInt8] { try #require(hex.flatMap { [UInt8](hex: $0) }) }

    private func describe(_ finding: Transcript.Finding) -> String {
        switch finding {
        case .divergence(let sender, let id, let witness): "split view \(sender) \(id) \(witness)"
        case .delivery(let id, let acknowledged, let recipients): "delivery \(id) \(acknowledged.sorted()) \(recipients.sorted())"
        }
    }

    private func describe(_ expect: Step.Expect) -> String {
        if let split = expect.splitView { return "split view \(split.sender) \(split.id) \(split.witness)" }
        if let delivery = expect.delivery { return "delivery \(delivery.id) \(delivery.acknowledged.sorted()) \(delivery.recipients.sorted())" }
        return "carries \(expect.carries ?? [])"
    }
}
