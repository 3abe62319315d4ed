import CatroomProtocol
import CatroomXML

/// A groupchat message serialised once for all its recipients (CR-0005 §6.2).
///
/// Every copy differs only in `to` and in which `<key/>` it keeps, so the
/// message is serialised once with two markers, split there, and each copy is
/// the pieces with the recipient's address and key entry in between: fan-out
/// becomes concatenation instead of 50 serialisations of an 800-byte payload.
final class FanoutTemplate: Sendable {
    /// The message as the first recipient would get it, minus `to` and keys: for `element(for:)`.
    private let template: XML.Element
    private let encryptedIndex: Int?
    /// Where, among `<encrypted/>`'s children, a recipient's key goes.
    private let keyPosition: Int
    /// Serialised pieces: `head` + to + `middle` + key + `tail`.
    private let head: [UInt8]
    private let middle: [UInt8]
    private let tail: [UInt8]
    /// Each recipient's `<key/>`, serialised inside `<encrypted/>`'s namespace.
    private let keys: [String: XML.Element]
    private let keyBytes: [String: [UInt8]]

    /// Private-use characters that mark where `to` and the key go; a stanza that
    /// already contains either gets no template (the caller serialises each copy).
    private static let toMarker = "\u{E000}"
    private static let keyMarker = "\u{E001}"

    init?(_ stanza: XML.Element, from: JID) {
        var template = stanza
        template[attribute: "from"] = from.description
        template[attribute: "to"] = nil
        var keys: [String: XML.Element] = [:]
        var marked = template
        marked[attribute: "to"] = Self.toMarker
        var keyPosition = 0
        encryptedIndex = template.children.firstIndex {
            $0.element.map { $0.name == "encrypted" && $0.namespace == Namespace.encrypted } ?? false
        }
        if let encryptedIndex, case .element(var encrypted) = template.children[encryptedIndex] {
            var withMarker = encrypted
            withMarker.children = []
            for node in encrypted.children {
                if case .element(let key) = node, key.name == "key", key.namespace == Namespace.encrypted {
                    if keys.isEmpty {
                        keyPosition = withMarker.children.count
                        withMarker.children.append(.text(Self.keyMarker))
                    }
                    if let recipient = key.attribute("recipient") { keys[recipient] = key }
                } else {
                    withMarker.children.append(node)
                }
            }
            if keys.isEmpty {
                keyPosition = withMarker.children.count
                withMarker.children.append(.text(Self.keyMarker))
            }
            encrypted.children = encrypted.children.filter { $0.element?.name != "key" || $0.element?.namespace != Namespace.encrypted }
            template.children[encryptedIndex] = .element(encrypted)
            marked.children[encryptedIndex] = .element(withMarker)
        } else {
            marked.children.append(.text(Self.keyMarker))
        }
        let bytes = marked.serialized(inheritedNamespace: Namespace.client)
        let pieces = Self.split(bytes, at: Array(Self.toMarker.utf8), Array(Self.keyMarker.utf8))
        guard let pieces else { return nil }
        (head, middle, tail) = pieces
        self.template = template
        self.keyPosition = keyPosition
        self.keys = keys
        keyBytes = keys.mapValues { $0.serialized(inheritedNamespace: Namespace.encrypted) }
    }

    /// The copy for `recipient` (whose nick selects the key), serialised.
    func bytes(to recipient: JID, nick: String) -> [UInt8] {
        let key = keyBytes[nick] ?? []
        var bytes: [UInt8] = []
        bytes.reserveCapacity(head.count + middle.count + tail.count + key.count + 96)
        bytes += head
        Self.appendEscaped(recipient.description, to: &bytes)
        bytes += middle
        bytes += key
        bytes += tail
        return bytes
    }

    /// The same copy as an element (for the test-only tamper hook).
    func element(to recipient: JID, nick: String) -> XML.Element {
        var copy = template
        copy[attribute: "to"] = recipient.description
        if let encryptedIndex, let key = keys[nick], case .element(var encrypted) = copy.children[encryptedIndex] {
            encrypted.children.insert(.element(key), at: keyPosition)
            copy.children[encryptedIndex] = .element(encrypted)
        }
        return copy
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

    /// An attribute value between single quotes (the serializer's quoting).
    private static func appendEscaped(_ text: String, to bytes: inout [UInt8]) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "&"): bytes += Array("&amp;".utf8)
            case UInt8(ascii: "<"): bytes += Array("&lt;".utf8)
            case UInt8(ascii: ">"): bytes += Array("&gt;".utf8)
            case UInt8(ascii: "'"): bytes += Array("&apos;".utf8)
            case UInt8(ascii: "\""): bytes += Array("&quot;".utf8)
            default: bytes.append(byte)
            }
        }
    }
}
