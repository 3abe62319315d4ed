import Foundation

/// The plaintext inside every encrypted message (xep/CR-0006 §5.3): a small JSON
/// object, padded with spaces to a multiple of 64 bytes so that sizes say less.
struct ChatPayload: Codable, Equatable, Sendable {
    /// The payload types of CR-0006 §5.3; any other is kept as `unsupported` so that
    /// a newer client's message shows as such, not as unreadable.
    enum Kind: Equatable, Sendable, Codable {
        /// The display name, sent to each member inside the key exchange (DESIGN §2.5).
        case hello
        /// A line of chat; `action` is a `/me` line.
        case text, action
        /// A new display name for everyone.
        case nick
        /// Only acknowledgements (CR-0006 §5.8): shown to nobody, acknowledged by nobody.
        case ack
        /// A new room topic in `body`, empty to clear it (CR-0006 §5.11).
        case topic
        case unsupported(String)

        static let known: [String: Kind] = ["hello": .hello, "text": .text, "action": .action, "nick": .nick, "ack": .ack, "topic": .topic]

        var name: String {
            if case .unsupported(let name) = self { return name }
            return Self.known.first { $0.value == self }?.key ?? ""
        }

        init(from decoder: any Decoder) throws {
            let name = try decoder.singleValueContainer().decode(String.self)
            self = Self.known[name] ?? .unsupported(name)
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(name)
        }
    }

    static let version = 1
    static let padding = 64

    var v = ChatPayload.version
    var type: Kind
    var nick: String?
    var body: String?
    /// The sender's clock, milliseconds since 1970 (shown, and compared for skew).
    var ts: Int64
    /// Room messages accepted since the sender's previous room message (CR-0006 §5.8).
    var acks: [Transcript.Ack]?
    /// In a hello: the invite proof for its recipient, base64 (CR-0008 §5.3).
    var invite: String?
    /// In a hello: the room topic the sender shows, who set it and their `ts` (CR-0006 §5.11).
    var topic: String?
    var topicBy: String?
    var topicTs: Int64?

    init(_ type: Kind, nick: String? = nil, body: String? = nil, acks: [Transcript.Ack]? = nil, at date: Date = Date()) {
        self.type = type
        self.nick = nick
        self.body = body
        self.acks = acks
        ts = Int64(date.timeIntervalSince1970 * 1000)
    }

    var date: Date { Date(timeIntervalSince1970: Double(ts) / 1000) }

    /// The integral keys as `JSONDecoder` reads them, through `Double`, for writing tests;
    /// `decode` replaces them with their exact values (§5.3 rule 4).
    init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: CodingKeys.self)
        type = try keys.decode(Kind.self, forKey: .type)
        nick = try keys.decodeIfPresent(String.self, forKey: .nick)
        body = try keys.decodeIfPresent(String.self, forKey: .body)
        acks = try keys.decodeIfPresent([Transcript.Ack].self, forKey: .acks)
        invite = try keys.decodeIfPresent(String.self, forKey: .invite)
        topic = try keys.decodeIfPresent(String.self, forKey: .topic)
        topicBy = try keys.decodeIfPresent(String.self, forKey: .topicBy)
        v = (try? keys.decode(Int.self, forKey: .v)) ?? 0
        ts = (try? keys.decode(Int64.self, forKey: .ts)) ?? 0
        topicTs = try? keys.decodeIfPresent(Int64.self, forKey: .topicTs)
    }

    func encoded() -> [UInt8] {
        var bytes = json()
        bytes += [UInt8](repeating: 0x20, count: (Self.padding - bytes.count % Self.padding) % Self.padding)
        return bytes
    }

    /// The JSON object, before padding.
    func json() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(self)) ?? Data())
    }

    struct Unreadable: Error {}

    /// CR-0006 §5.3 in order: padding (checked before parsing), the whole text strict JSON
    /// (no repeated names, no unpaired surrogates), the keys' types, and `v`.
    static func decode(_ bytes: [UInt8]) throws -> ChatPayload {
        guard !bytes.isEmpty, bytes.count % padding == 0, let members = StrictJSON.members(bytes),
              var payload = try? JSONDecoder().decode(ChatPayload.self, from: Data(bytes)),
              case .integral(let v)? = members["v"], case .integral(let ts)? = members["ts"]
        else { throw Unreadable() }
        switch members["topicTs"] {
        case nil, .null?: payload.topicTs = nil
        case .integral(let topicTs)?: payload.topicTs = topicTs
        case .other?: throw Unreadable()
        }
        guard v == version else { throw Unreadable() }
        (payload.v, payload.ts) = (Int(v), ts)
        return payload
    }
}
