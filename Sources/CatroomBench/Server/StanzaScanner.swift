import Foundation

/// Splits an established stream into its top-level elements and recognises the
/// benchmark's own groupchat messages from their start tag alone, so the generator
/// does not build a tree for each of the hundreds of thousands it receives.
///
/// Everything else (presences, IQs, errors, messages it did not write) comes back as
/// complete element bytes for the shared `XML.StreamParser`, which therefore still
/// sees a well-formed stream. The scanner only tracks tags, quotes and depth; on
/// anything it does not expect (a comment, CDATA, a processing instruction, text
/// between stanzas, the stream's end tag) it gives up and returns the bytes it has
/// not handled, and the caller parses everything from then on.
struct StanzaScanner {
    enum Item {
        /// A groupchat message with a benchmark id: counted, never parsed.
        case groupchat(MessageID)
        /// Any other complete top-level element, for the stream parser.
        case element(UnsafeRawBufferPointer)
    }

    /// Bytes received but not yet handled: at most the element in progress.
    private var pending: [UInt8] = []
    /// Where scanning resumes: a tag's `<` or text.
    private var position = 0
    /// The `<` of the top-level element in progress.
    private var elementStart = 0
    /// Open elements, the stream root not counted.
    private var depth = 0
    /// The benchmark id of the top-level element in progress, if its start tag was one of ours.
    private var current: MessageID?
    /// True once the scanner has handed everything back.
    private(set) var gaveUp = false

    private static let lt = UInt8(ascii: "<"), gt = UInt8(ascii: ">"), slash = UInt8(ascii: "/")
    private static let apostrophe = UInt8(ascii: "'"), quotation = UInt8(ascii: "\"")

    /// Scans `bytes`, calling `handle` for each element they complete. Returns the bytes not
    /// handled if it gave up (the caller parses them and everything after); nil otherwise.
    mutating func feed(_ bytes: UnsafeRawBufferPointer, _ handle: (Item) -> Void) -> [UInt8]? {
        precondition(!gaveUp, "the scanner gave up: parse the stream instead")
        pending.append(contentsOf: bytes)
        var leftover: [UInt8]?
        pending.withUnsafeBytes { buffer in
            leftover = scan(buffer, handle)
        }
        if leftover != nil {
            gaveUp = true
            pending = []
            return leftover
        }
        // Keep only the element in progress (or the unfinished tag between elements).
        let keep = depth > 0 ? elementStart : position
        if keep == pending.count {
            pending.removeAll(keepingCapacity: true)
        } else if keep > 0 {
            pending.removeFirst(keep)
        }
        position -= keep
        elementStart -= keep
        return nil
    }

    private mutating func scan(_ buffer: UnsafeRawBufferPointer, _ handle: (Item) -> Void) -> [UInt8]? {
        guard let base = buffer.baseAddress else { return nil }
        let count = buffer.count
        var p = position
        while p < count {
            guard let found = memchr(base + p, Int32(Self.lt), count - p) else {
                if depth == 0, !Self.isWhitespace(buffer[p..<count]) { return Array(buffer[p...]) }
                p = count
                break
            }
            let lt = base.distance(to: UnsafeRawPointer(found))
            if depth == 0 {
                // Between stanzas only whitespace keepalives belong (RFC 6120 §4.6.1).
                if !Self.isWhitespace(buffer[p..<lt]) { return Array(buffer[p...]) }
                elementStart = lt
            }
            guard lt + 1 < count else {
                p = lt
                break
            }
            // In the cases below, `break` in a guard leaves the switch, and the `break` after it the loop.
            switch buffer[lt + 1] {
            case Self.slash:
                guard let end = memchr(base + lt, Int32(Self.gt), count - lt) else {
                    p = lt
                    break
                }
                // The stream's own end tag: the parser reports it.
                if depth == 0 { return Array(buffer[lt...]) }
                depth -= 1
                p = base.distance(to: UnsafeRawPointer(end)) + 1
                if depth == 0 { complete(buffer, end: p, handle) }
                continue
            case UInt8(ascii: "!"), UInt8(ascii: "?"):
                return Array(buffer[elementStart...])
            default:
                guard let end = Self.tagEnd(buffer, from: lt + 1) else {
                    p = lt
                    break
                }
                if depth == 0 { current = Self.benchmarkID(startTag: UnsafeRawBufferPointer(rebasing: buffer[(lt + 1)..<end])) }
                p = end + 1
                if buffer[end - 1] == Self.slash {
                    if depth == 0 { complete(buffer, end: p, handle) }
                } else {
                    depth += 1
                }
                continue
            }
            break  // an unfinished tag: wait for more bytes
        }
        position = p
        return nil
    }

    private mutating func complete(_ buffer: UnsafeRawBufferPointer, end: Int, _ handle: (Item) -> Void) {
        if let current {
            handle(.groupchat(current))
        } else {
            handle(.element(UnsafeRawBufferPointer(rebasing: buffer[elementStart..<end])))
        }
        current = nil
        elementStart = end
    }

    /// The `>` closing a start tag whose name begins at `from`, skipping quoted attribute values.
    private static func tagEnd(_ buffer: UnsafeRawBufferPointer, from: Int) -> Int? {
        var quote: UInt8 = 0
        var index = from
        while index < buffer.count {
            let byte = buffer[index]
            if quote != 0 {
                if byte == quote { quote = 0 }
            } else if byte == apostrophe || byte == quotation {
                quote = byte
            } else if byte == gt {
                return index
            }
            index += 1
        }
        return nil
    }

    /// The id of `<message type='groupchat' id='cb…'>` in the default `jabber:client` namespace, else nil.
    static func benchmarkID(startTag tag: UnsafeRawBufferPointer) -> MessageID? {
        let name = Array("message ".utf8)
        guard tag.count > name.count, zip(tag, name).allSatisfy({ $0 == $1 || ($1 == 0x20 && isWhitespace($0)) }) else { return nil }
        var index = name.count
        var isGroupchat = false
        var id: MessageID?
        while index < tag.count {
            while index < tag.count, isWhitespace(tag[index]) { index += 1 }
            let nameStart = index
            while index < tag.count, tag[index] != UInt8(ascii: "="), !isWhitespace(tag[index]), tag[index] != slash { index += 1 }
            let attribute = tag[nameStart..<index]
            while index < tag.count, isWhitespace(tag[index]) || tag[index] == UInt8(ascii: "=") { index += 1 }
            guard index < tag.count, tag[index] == apostrophe || tag[index] == quotation else { break }
            let quote = tag[index]
            let valueStart = index + 1
            index = valueStart
            while index < tag.count, tag[index] != quote { index += 1 }
            guard index < tag.count else { return nil }
            let value = UnsafeRawBufferPointer(rebasing: tag[valueStart..<index])
            index += 1
            if attribute.elementsEqual("type".utf8) {
                isGroupchat = value.elementsEqual("groupchat".utf8)
            } else if attribute.elementsEqual("id".utf8) {
                id = MessageID(utf8: value)
            } else if attribute.elementsEqual("xmlns".utf8) {
                guard value.elementsEqual("jabber:client".utf8) else { return nil }
            } else if attribute.contains(UInt8(ascii: ":")) {
                // A prefixed name or namespace declaration could change what the element is: parse it properly.
                return nil
            }
        }
        return isGroupchat ? id : nil
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D
    }

    private static func isWhitespace(_ bytes: Slice<UnsafeRawBufferPointer>) -> Bool {
        bytes.allSatisfy(isWhitespace)
    }
}
