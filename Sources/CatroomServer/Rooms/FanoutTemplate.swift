import CatroomProtocol
import CatroomXML

/// A groupchat message serialised once for all its recipients (CR-0005 §6.2).
///
/// Every copy differs only in `to` and in which `<key/>` it keeps, so the
/// message is serialised once with two markers, split there, and each copy is
/// the pieces with the recipient's address and key entry in between: fan-out
/// becomes concatenation instead of 50 serialisations of an 800-byte payload.
final class FanoutTemplate: Sendable {
    /// The message with the sender's `from`, as every copy starts.
    private let message: XML.Element
    /// Serialised pieces: `head` + to + `middle` + key + `tail`.
    private let head: [UInt8]
    private let middle: [UInt8]
    private let tail: [UInt8]
    /// Each recipient's `<key/>`, serialised inside `<encrypted/>`'s namespace.
    private let keyBytes: [String: [UInt8]]

    /// Private-use characters that mark where `to` and the key go; a stanza that
    /// already contains either gets no template (the caller serialises each copy).
    private static let toMarker = "\u{E000}"
    private static let keyMarker = "\u{E001}"

    /// A template for `message` (its `from` already the sender's occupant JID), or nil
    /// when one place for the key would not give every copy `copy(of:to:nick:)` gives:
    /// key entries that are not adjacent, or two for one recipient.
    init?(_ message: XML.Element) {
        var marked = message
        marked[attribute: "to"] = Self.toMarker
        var keys: [String: XML.Element] = [:]
        if let index = Self.encryptedIndex(in: message), case .element(let encrypted) = message.children[index] {
            var withMarker = encrypted
            withMarker.children = []
            var keysEnded = false
            for node in encrypted.children {
                if case .element(let key) = node, key.name == "key", key.namespace == Namespace.encrypted {
                    if keysEnded { return nil }
                    if keys.isEmpty { withMarker.children.append(.text(Self.keyMarker)) }
                    guard let recipient = key.attribute("recipient") else { continue }
                    guard keys.updateValue(key, forKey: recipient) == nil else { return nil }
                } else {
                    keysEnded = !keys.isEmpty
                    withMarker.children.append(node)
                }
            }
            if keys.isEmpty { withMarker.children.append(.text(Self.keyMarker)) }
            marked.children[index] = .element(withMarker)
        } else {
            marked.children.append(.text(Self.keyMarker))
        }
        let bytes = marked.serialized(inheritedNamespace: Namespace.client)
        guard let pieces = Self.split(bytes, at: Array(Self.toMarker.utf8), Array(Self.keyMarker.utf8)) else { return nil }
        (head, middle, tail) = pieces
        self.message = message
        keyBytes = keys.mapValues { $0.serialized(inheritedNamespace: Namespace.encrypted) }
    }

    /// The copy for `recipient` (whose nick selects the key), serialised.
    func bytes(to recipient: JID, nick: String) -> [UInt8] {
        let key = keyBytes[nick] ?? []
        var bytes: [UInt8] = []
        bytes.reserveCapacity(head.count + middle.count + tail.count + key.count + 96)
        bytes += head
        XML.appendAttributeValue(recipient.description, to: &bytes)
        bytes += middle
        bytes += key
        bytes += tail
        return bytes
    }

    /// The same copy as an element (for the test-only tamper hook).
    func element(to recipient: JID, nick: String) -> XML.Element {
        Self.copy(of: message, to: recipient, nick: nick)
    }

    /// One recipient's copy of `message`: addressed to it, with every `<key/>` addressed
    /// to someone else removed (CR-0005 §6.2). The template's bytes are this, serialised.
    static func copy(of message: XML.Element, to recipient: JID, nick: String) -> XML.Element {
        var copy = message
        copy[attribute: "to"] = recipient.description
        if let index = encryptedIndex(in: copy), case .element(let encrypted) = copy.children[index] {
            copy.children[index] = .element(EncryptedElement.copy(of: encrypted, for: nick))
        }
        return copy
    }

    private static func encryptedIndex(in message: XML.Element) -> Int? {
        message.children.firstIndex { $0.element.map { $0.name == "encrypted" && $0.namespace == Namespace.encrypted } ?? false }
    }

    /// Splits at each marker, which must occur exactly once and in order.
    private static func split(_ bytes: [UInt8], at first: [UInt8], _ second: [UInt8]) -> ([UInt8], [UInt8], [UInt8])? {
        let firsts = occurrences(of: first, in: bytes), seconds = occurrences(of: second, in: bytes)
        guard firsts.count == 1, seconds.count == 1, firsts[0] < seconds[0] else { return nil }
        return (Array(bytes[..<firsts[0]]), Array(bytes[(firsts[0] + first.count)..<seconds[0]]), Array(bytes[(seconds[0] + second.count)...]))
    }

    private static func occurrences(of needle: [UInt8], in haystack: [UInt8]) -> [Int] {
        guard haystack.count >= needle.count else { return [] }
        var found: [Int] = []
        var index = 0
        while index <= haystack.count - needle.count {
            if haystack[index] == needle[0], haystack[index..<(index + needle.count)].elementsEqual(needle) {
                found.append(index)
                index += needle.count
            } else {
                index += 1
            }
        }
        return found
    }
}
