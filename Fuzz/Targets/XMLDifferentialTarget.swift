import CLibXML2
import CatroomXML

// The stream parser against libxml2 (Fuzz/CLibXML2: no network, no entity substitution,
// no DTD loading, no recovery, XML 1.0 names as expat reads them). Input: one stream
// document. Both parsers read the same bytes; libxml2 reads them as a whole document.
// Invariants:
// - a document our parser refuses is one libxml2 refuses too, unless libxml2's tree shows
//   what only restricted XML (RFC 6120 §11) refuses: a DTD, comment, processing instruction
//   or entity reference, an XML declaration naming another version or encoding or
//   standalone='no', non-UTF-8 input, or text between top-level elements;
// - a document our parser reads to `</stream:stream>` (what follows is cut off: the stream
//   ends there) libxml2 reads too, with none of those, to the same tree: the root's name,
//   namespace and attributes, and each top-level element with its whole subtree (names,
//   namespaces, attributes in order, text). Whitespace between top-level elements is not
//   compared: the stream drops it (keepalives).
// Skipped: documents our parser refuses for its `Limits` (libxml2 has others) or memory,
// and documents not closed yet, which a stream parser waits on and libxml2 refuses.

extension FuzzTarget {
    static let xmlDifferential = FuzzTarget(name: "xml-differential") { bytes in
        let document = Array(bytes)
        let ours = XMLDifferential.stream(document)
        if let error = ours.error {
            guard XMLDifferential.isComparable(error), let theirs = XMLDifferential.libxml2(document),
                  theirs.restrictions.isDisjoint(with: XMLDifferential.explanations(of: error))
            else { return }
            return invariant(false, "our parser refused (\(error)) what libxml2 reads as \(theirs.root)")
        }
        // What follows `</stream:stream>` is not part of the stream (our parser never reads
        // it; libxml2 takes a NUL there for the end of its input): only the part before is compared.
        guard let root = ours.root else { return }
        guard let theirs = XMLDifferential.libxml2(document[..<ours.end]) else {
            invariant(false, "our parser read a document libxml2 refuses")
            return
        }
        invariant(theirs.restrictions.isEmpty, "our parser read a document with \(theirs.restrictions)")
        invariant(root == theirs.root, "the trees differ: ours \(root), libxml2's \(theirs.root)")
    }
}

enum XMLDifferential {
    /// What restricted XML refuses and libxml2 reads, as found in libxml2's tree.
    enum Restriction: Hashable {
        case documentType, comment, processingInstruction, entityReference, standaloneNo
        case version, encoding, textBetweenElements
    }

    /// Our parser's reading of a stream document.
    struct Stream {
        /// The root with its top-level elements as children, once `</stream:stream>` was read.
        var root: XML.Element?
        /// Bytes up to the end of `</stream:stream>`.
        var end = 0
        var error: XML.StreamError?
    }

    /// Feeds `document` at once.
    static func stream(_ document: [UInt8]) -> Stream {
        let parser = XML.StreamParser()
        var stream = Stream()
        var root: XML.Element?
        let events: [XML.StreamEvent]
        do throws(XML.StreamError) {
            events = try parser.feed(document)
        } catch {
            stream.error = error
            return stream
        }
        for event in events {
            switch event {
            case .streamOpened(let element): root = element
            case .element(let element): root?.children.append(.element(normalized(element)))
            case .streamClosed:
                stream.root = root
                stream.end = document.count - parser.bytesAfterLastEvent
            }
        }
        return stream
    }

    struct Document {
        /// The root with its children, text merged and whitespace between top-level elements dropped.
        var root: XML.Element
        var restrictions: Set<Restriction>
    }

    /// Our errors that say nothing about the language: limits libxml2 does not share.
    static func isComparable(_ error: XML.StreamError) -> Bool {
        switch error {
        case .stanzaTooBig, .policyViolation, .resourceConstraint: false
        default: true
        }
    }

    /// The restrictions that make a document libxml2 reads one we refuse with `error`.
    static func explanations(of error: XML.StreamError) -> Set<Restriction> {
        switch error {
        case .restrictedXML: [.documentType, .comment, .processingInstruction, .entityReference, .standaloneNo]
        case .unsupportedVersion: [.version]
        case .unsupportedEncoding: [.encoding]
        case .notWellFormed: [.textBetweenElements]
        default: []
        }
    }

    /// libxml2's reading of a whole document, or nil when it refuses it (namespace errors included).
    static func libxml2(_ bytes: some Collection<UInt8>) -> Document? {
        let bytes = Array(bytes)
        var namespaceErrors: Int32 = 0
        let parsed = bytes.withUnsafeBytes { buffer in
            catroom_xml2_read(buffer.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(buffer.count), &namespaceErrors)
        }
        guard let document = parsed else { return nil }
        defer { xmlFreeDoc(document) }
        guard namespaceErrors == 0, let rootNode = xmlDocGetRootElement(document) else { return nil }

        var restrictions = Set<Restriction>()
        if document.pointee.intSubset != nil || document.pointee.extSubset != nil { restrictions.insert(.documentType) }
        if let version = document.pointee.version, String(cString: version) != "1.0" { restrictions.insert(.version) }
        if let encoding = document.pointee.encoding, String(cString: encoding).lowercased() != "utf-8" { restrictions.insert(.encoding) }
        // Our parser judges the first two bytes before any declaration (RFC 6120 §11.6).
        if let first = bytes.first, first == 0 || first == 0xFE || first == 0xFF || bytes.dropFirst().first == 0 {
            restrictions.insert(.encoding)
        }
        if document.pointee.standalone == 0 { restrictions.insert(.standaloneNo) }
        var node = document.pointee.children
        while let current = node {
            note(current, in: &restrictions)
            node = current.pointee.next
        }
        var root = element(rootNode, document: document, restrictions: &restrictions)
        root.children = root.children.filter { child in
            guard case .text(let text) = child else { return true }
            if !text.utf8.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x09 || $0 == 0x0D }) {
                restrictions.insert(.textBetweenElements)
            }
            return false
        }
        return Document(root: root, restrictions: restrictions)
    }

    private static func note(_ node: xmlNodePtr, in restrictions: inout Set<Restriction>) {
        switch node.pointee.type {
        case XML_COMMENT_NODE: restrictions.insert(.comment)
        case XML_PI_NODE: restrictions.insert(.processingInstruction)
        case XML_ENTITY_REF_NODE: restrictions.insert(.entityReference)
        case XML_DTD_NODE: restrictions.insert(.documentType)
        default: break
        }
    }

    /// An element node as our parser builds one, its text merged; libxml2 nests at most 256 deep.
    private static func element(_ node: xmlNodePtr, document: xmlDocPtr, restrictions: inout Set<Restriction>) -> XML.Element {
        var element = XML.Element(
            string(node.pointee.name), namespace: namespace(node.pointee.ns), attributes: [])
        var attribute = node.pointee.properties
        while let current = attribute {
            let value = catroom_xml2_attribute_value(document, current)
            defer { catroom_xml2_free(value) }
            element.attributes.append(XML.Attribute(
                string(current.pointee.name), namespace: namespace(current.pointee.ns),
                value: value.map { String(cString: $0) } ?? ""))
            attribute = current.pointee.next
        }
        var child = node.pointee.children
        while let current = child {
            switch current.pointee.type {
            case XML_ELEMENT_NODE:
                element.children.append(.element(self.element(current, document: document, restrictions: &restrictions)))
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                element.children.append(.text(string(current.pointee.content)))
            default:
                note(current, in: &restrictions)
            }
            child = current.pointee.next
        }
        return normalized(element)
    }

    /// Adjacent text nodes merged and empty ones dropped, so that only content is compared.
    static func normalized(_ element: XML.Element) -> XML.Element {
        var element = element
        var children: [XML.Node] = []
        for child in element.children {
            switch child {
            case .element(let nested):
                children.append(.element(normalized(nested)))
            case .text(let text) where text.isEmpty:
                continue
            case .text(let text):
                if case .text(let previous)? = children.last {
                    children[children.count - 1] = .text(previous + text)
                } else {
                    children.append(.text(text))
                }
            }
        }
        element.children = children
        return element
    }

    /// A namespace name as declared. libxml2 keeps each `&` of a declaration's value as `&#38;`
    /// (a literal `&` cannot occur there, so the replacement is exact); Namespaces in XML §2.2
    /// names the normalised value, as expat reports it.
    private static func namespace(_ namespace: xmlNsPtr?) -> String {
        string(namespace?.pointee.href).replacing("&#38;", with: "&")
    }

    private static func string(_ pointer: UnsafePointer<xmlChar>?) -> String {
        pointer.map { String(cString: $0) } ?? ""
    }
}
