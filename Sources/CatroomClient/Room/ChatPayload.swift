import Foundation

/// The plaintext inside every encrypted message (xep/CR-0006 §5): a small JSON
/// object, padded with spaces to a multiple of 64 bytes so that sizes say less.
struct ChatPayload: Codable, Equatable, Sendable {
    enum Kind: String, Codable, Sendable {
        /// The display name, sent to each member inside the key exchange (DESIGN §2.5).
        case hello
        /// A line of chat; `action` is a `/me` line.
        case text, action
        /// A new display name for everyone.
        case nick
    }

    static let version = 1
    static let padding = 64

    var v = ChatPayload.version
    var type: Kind
    var nick: String?
    var body: String?
    /// The sender's clock, milliseconds since 1970 (shown, and compared for skew).
    var ts: Int64

    init(_ type: Kind, nick: String? = nil, body: String? = nil, at date: Date = Date()) {
        self.type = type
        self.nick = nick
        self.body = body
        ts = Int64(date.timeIntervalSince1970 * 1000)
    }

    var date: Date { Date(timeIntervalSince1970: Double(ts) / 1000) }

    func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var bytes = Array((try? encoder.encode(self)) ?? Data())
        bytes += [UInt8](repeating: 0x20, count: (Self.padding - bytes.count % Self.padding) % Self.padding)
        return bytes
    }

    struct Unreadable: Error {}

    static func decode(_ bytes: [UInt8]) throws -> ChatPayload {
        guard let payload = try? JSONDecoder().decode(ChatPayload.self, from: Data(bytes)), payload.v == version else {
            throw Unreadable()
        }
        return payload
    }
}
