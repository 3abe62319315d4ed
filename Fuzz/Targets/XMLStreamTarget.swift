import CatroomXML

// The stream parser (Sources/CatroomXML). Input: two bytes choosing the limits, two
// choosing the chunking and whether to hibernate, then the document. Invariants:
// - one feed, one byte at a time, and chunks cut where the input says (hibernating
//   after each chunk, or not) end with the same error or none (except that input both
//   too big and malformed may be refused as either: the size is checked between slices
//   and while bytes are held, so which rule is seen broken first depends on the chunks);
// - the events are the same; after an error, each run's are a prefix of the
//   byte-at-a-time run's (an error discards the rest of its own feed);
// - no event breaks the limits;
// - every element serialises to bytes that parse back to the same element;
// - any string serialises, as text and as an attribute value, to well-formed XML.

extension FuzzTarget {
    static let xmlStream = FuzzTarget(name: "xml") { bytes in
        var input = FuzzInput(bytes)
        let limits = XMLStreamCheck.limits(input.byte(), input.byte())
        let seed = UInt64(input.byte()) << 8 | UInt64(input.byte())
        let document = input.remaining()

        let whole = XMLStreamCheck.run([document], limits: limits)
        let bytewise = XMLStreamCheck.run(document.map { [$0] }, limits: limits)
        let chunked = XMLStreamCheck.run(XMLStreamCheck.chunks(document, seed: seed), limits: limits, hibernating: seed & 1 == 1)

        invariant(XMLStreamCheck.agree(whole.error, bytewise.error), "one feed ended with \(whole), byte by byte with \(bytewise)")
        invariant(XMLStreamCheck.agree(chunked.error, bytewise.error), "chunks ended with \(chunked), byte by byte with \(bytewise)")
        for run in [whole, chunked] {
            invariant(
                run.error == nil ? run.events == bytewise.events : bytewise.events.starts(with: run.events),
                "events differ: \(run.events) versus byte by byte \(bytewise.events)")
        }
        for event in bytewise.events {
            switch event {
            case .streamOpened(let root): XMLStreamCheck.checkLimits(root, depth: 0, limits: limits)
            case .element(let element):
                XMLStreamCheck.checkLimits(element, depth: 1, limits: limits)
                invariant(XMLStreamCheck.contentBytes(element) <= limits.maxElementBytes, "an element over maxElementBytes")
                XMLStreamCheck.checkRoundTrip(element)
            case .streamClosed: break
            }
        }
        XMLStreamCheck.checkSerializesAnyString(String(decoding: document, as: UTF8.self))
    }
}

enum XMLStreamCheck {
    struct Outcome: CustomStringConvertible {
        var events: [XML.StreamEvent] = []
        var error: XML.StreamError?
        var description: String { "error \(error.map { "\($0)" } ?? "none") after \(events.count) events" }
    }

    /// Whether two runs' errors agree (see the header comment for `stanzaTooBig`).
    static func agree(_ one: XML.StreamError?, _ other: XML.StreamError?) -> Bool {
        one == other || (one != nil && other != nil && (one == .stanzaTooBig || other == .stanzaTooBig))
    }

    /// Small limits half the time, so that every limit is reached often; the defaults otherwise.
    static func limits(_ first: UInt8, _ second: UInt8) -> XML.StreamParser.Limits {
        guard first & 0x80 != 0 else { return XML.StreamParser.Limits() }
        return XML.StreamParser.Limits(
            maxElementBytes: 32 + Int(first & 0x7F) * 8,
            maxDepth: 1 + Int(second & 0x07),
            maxAttributes: Int(second >> 3 & 0x07),
            maxNameBytes: 1 + Int(second >> 6) * 12,
            maxAttributeValueBytes: Int(first & 0x0F) * 4)
    }

    static func run(_ chunks: [[UInt8]], limits: XML.StreamParser.Limits, hibernating: Bool = false) -> Outcome {
        let parser = XML.StreamParser(limits: limits)
        var outcome = Outcome()
        for chunk in chunks {
            do {
                outcome.events += try parser.feed(chunk)
            } catch {
                outcome.error = error
                invariant(parser.failure == error, "the parser's failure is not what it threw")
                return outcome
            }
            if hibernating { parser.hibernate() }
        }
        return outcome
    }

    /// Cuts `bytes` at points drawn from `seed`: runs of 1 to 16 bytes, sometimes longer.
    static func chunks(_ bytes: [UInt8], seed: UInt64) -> [[UInt8]] {
        var random = SplitMix(state: seed)
        var chunks: [[UInt8]] = []
        var start = 0
        while start < bytes.count {
            let draw = random.next()
            let length = draw & 0x30 == 0 ? Int((draw >> 8) % 512) + 1 : Int((draw >> 8) & 0x0F) + 1
            chunks.append(Array(bytes[start..<min(bytes.count, start + length)]))
            start += length
        }
        return chunks
    }

    static func checkLimits(_ element: XML.Element, depth: Int, limits: XML.StreamParser.Limits) {
        invariant(depth <= limits.maxDepth, "an element at depth \(depth), limit \(limits.maxDepth)")
        invariant(element.attributes.count <= limits.maxAttributes, "\(element.attributes.count) attributes, limit \(limits.maxAttributes)")
        invariant(element.name.utf8.count <= limits.maxNameBytes && element.namespace.utf8.count <= limits.maxNameBytes, "a name over the limit")
        for attribute in element.attributes {
            invariant(attribute.name.utf8.count <= limits.maxNameBytes && attribute.namespace.utf8.count <= limits.maxNameBytes, "an attribute name over the limit")
            invariant(attribute.value.utf8.count <= limits.maxAttributeValueBytes, "an attribute value over the limit")
        }
        for child in element.childElements { checkLimits(child, depth: depth + 1, limits: limits) }
    }

    /// Bytes of names, values and text, each of which appeared at least as long in the input
    /// (references only shrink); namespaces are left out, as one declaration serves many elements.
    static func contentBytes(_ element: XML.Element) -> Int {
        var count = element.name.utf8.count
        for attribute in element.attributes { count += attribute.name.utf8.count + attribute.value.utf8.count }
        for child in element.children {
            switch child {
            case .element(let element): count += contentBytes(element)
            case .text(let text): count += text.utf8.count
            }
        }
        return count
    }

    /// Parses `<r>` + bytes + `</r>` with generous limits and returns its one element, or the reason it could not.
    static func reparse(_ bytes: [UInt8]) -> Result<XML.Element, XML.StreamError>? {
        let parser = XML.StreamParser(limits: XML.StreamParser.Limits(maxElementBytes: 1 << 24, maxDepth: 1 << 10, maxAttributes: 1 << 10))
        do {
            let events = try parser.feed(Array("<r>".utf8) + bytes + Array("</r>".utf8))
            guard events.count == 3, case .element(let element) = events[1] else { return nil }
            return .success(element)
        } catch {
            return .failure(error)
        }
    }

    static func checkRoundTrip(_ element: XML.Element) {
        let bytes = element.serialized()
        guard case .success(let reparsed)? = reparse(bytes) else {
            invariant(false, "the serialisation does not parse: \(String(decoding: bytes, as: UTF8.self))")
            return
        }
        invariant(reparsed == element, "the serialisation parses to another element: \(String(decoding: bytes, as: UTF8.self))")
    }

    static func checkSerializesAnyString(_ string: String) {
        var element = XML.Element("e", attributes: ["a": string]) { string }
        element[attribute: "lang", namespace: XML.xmlNamespace] = string
        let bytes = element.serialized()
        guard case .success(let reparsed)? = reparse(bytes) else {
            invariant(false, "a string serialises to ill-formed XML: \(Array(string.unicodeScalars))")
            return
        }
        let expected = replacingForbidden(string)
        invariant(reparsed.attribute("a") == expected && reparsed.text == expected, "a string does not survive serialisation")
    }

    /// `string` with the characters XML 1.0 §2.2 forbids replaced by U+FFFD, as the serialiser writes it.
    static func replacingForbidden(_ string: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in string.unicodeScalars {
            let allowed = scalar.value >= 0x20 || scalar == "\t" || scalar == "\n" || scalar == "\r"
            scalars.append(allowed && scalar.value != 0xFFFE && scalar.value != 0xFFFF ? scalar : "\u{FFFD}")
        }
        return String(scalars)
    }
}
