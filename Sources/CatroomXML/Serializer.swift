extension XML {
    /// Writes elements as UTF-8 into one growing buffer, without per-character `String` work.
    ///
    /// Elements are written unprefixed, with `xmlns='…'` wherever the namespace differs
    /// from the parent's; namespaced attributes get generated prefixes `ns0`, `ns1`, …
    /// declared on the element that first needs them. Attribute values use single quotes.
    struct Serializer {
        var bytes: [UInt8]
        /// Prefixes in scope for attributes (explicit declarations and generated ones).
        private var bindings: [NamespaceDeclaration] = []
        private var generatedPrefixes = 0

        init(capacity: Int) {
            bytes = []
            bytes.reserveCapacity(capacity)
        }

        init(appendingTo buffer: [UInt8]) {
            bytes = buffer
        }

        // MARK: - Elements

        mutating func write(_ element: Element, defaultNamespace: String) {
            let scope = bindings.count
            // Namespaces in XML 1.0 §3: the XML namespace is only ever bound to `xml`,
            // never declared as a default, so its elements are written prefixed.
            let inXMLNamespace = element.namespace == XML.xmlNamespace
            raw("<")
            if inXMLNamespace { raw("xml:") }
            raw(element.name)
            if !inXMLNamespace && element.namespace != defaultNamespace {
                raw(" xmlns='")
                escaped(element.namespace, mask: Self.attributeSpecials)
                raw("'")
            }
            write(element.attributes)
            if element.children.isEmpty {
                raw("/>")
            } else {
                raw(">")
                for child in element.children {
                    switch child {
                    case .element(let child): write(child, defaultNamespace: inXMLNamespace ? defaultNamespace : element.namespace)
                    case .text(let text): escaped(text, mask: Self.textSpecials)
                    }
                }
                raw("</")
                if inXMLNamespace { raw("xml:") }
                raw(element.name)
                raw(">")
            }
            bindings.removeSubrange(scope...)
        }

        /// Writes `<prefix:name xmlns…='…' attributes…>` with the given declarations first.
        mutating func writeOpeningTag(_ element: Element, declaring declarations: [NamespaceDeclaration]) {
            raw("<")
            writeQualifiedName(of: element, declaring: declarations)
            for declaration in declarations {
                precondition(declaration.prefix != "xml" && declaration.prefix != "xmlns", "reserved prefix")
                if declaration.prefix.isEmpty {
                    raw(" xmlns='")
                } else {
                    raw(" xmlns:")
                    raw(declaration.prefix)
                    raw("='")
                }
                escaped(declaration.uri, mask: Self.attributeSpecials)
                raw("'")
            }
            bindings = declarations.filter { !$0.prefix.isEmpty }
            write(element.attributes)
            raw(">")
        }

        mutating func writeClosingTag(_ element: Element, declaring declarations: [NamespaceDeclaration]) {
            raw("</")
            writeQualifiedName(of: element, declaring: declarations)
            raw(">")
        }

        private mutating func writeQualifiedName(of element: Element, declaring declarations: [NamespaceDeclaration]) {
            if let declaration = declarations.first(where: { $0.uri == element.namespace }) {
                if !declaration.prefix.isEmpty {
                    raw(declaration.prefix)
                    raw(":")
                }
            } else {
                precondition(
                    element.namespace.isEmpty && !declarations.contains { $0.prefix.isEmpty },
                    "the opening tag's namespace \(element.namespace) must be among its declarations"
                )
            }
            raw(element.name)
        }

        // MARK: - Attributes

        private mutating func write(_ attributes: [Attribute]) {
            // Declarations first, so a start tag reads: namespaces, then attributes.
            for attribute in attributes where needsPrefix(attribute) && prefix(for: attribute.namespace) == nil {
                let prefix = newPrefix()
                bindings.append(NamespaceDeclaration(prefix: prefix, uri: attribute.namespace))
                raw(" xmlns:")
                raw(prefix)
                raw("='")
                escaped(attribute.namespace, mask: Self.attributeSpecials)
                raw("'")
            }
            for attribute in attributes {
                raw(" ")
                if attribute.namespace == XML.xmlNamespace {
                    raw("xml:")
                } else if let prefix = prefix(for: attribute.namespace) {
                    raw(prefix)
                    raw(":")
                }
                raw(attribute.name)
                raw("='")
                escaped(attribute.value, mask: Self.attributeSpecials)
                raw("'")
            }
        }

        private func needsPrefix(_ attribute: Attribute) -> Bool {
            // Namespace declarations are not attributes in this model: an `xmlns`
            // attribute here is a caller's mistake (use `Element.namespace`).
            precondition(
                attribute.namespace != XML.xmlnsNamespace && !(attribute.namespace.isEmpty && attribute.name == "xmlns"),
                "namespace declarations are not attributes; set Element.namespace instead"
            )
            return !attribute.namespace.isEmpty && attribute.namespace != XML.xmlNamespace
        }

        private func prefix(for namespace: String) -> String? {
            if namespace.isEmpty || namespace == XML.xmlNamespace { return nil }
            return bindings.last { $0.uri == namespace }?.prefix
        }

        private mutating func newPrefix() -> String {
            while true {
                let prefix = "ns\(generatedPrefixes)"
                generatedPrefixes += 1
                if !bindings.contains(where: { $0.prefix == prefix }) { return prefix }
            }
        }

        // MARK: - Bytes

        private mutating func raw(_ literal: StaticString) {
            literal.withUTF8Buffer { bytes.append(contentsOf: $0) }
        }

        private mutating func raw(_ name: String) {
            var name = name
            name.withUTF8 { bytes.append(contentsOf: $0) }
        }

        /// An attribute value's characters, escaped (no quotes).
        mutating func attributeValue(_ value: String) {
            escaped(value, mask: Self.attributeSpecials)
        }

        /// Bytes below 0x40 that need attention in text: C0 controls except tab and
        /// line feed (a raw CR would be read back as LF), `&`, `<` and `>`.
        static let textSpecials: UInt64 = 0xFFFF_FFFF & ~(1 << 0x09 | 1 << 0x0A) | 1 << 0x26 | 1 << 0x3C | 1 << 0x3E

        /// Bytes below 0x40 that need attention in attribute values: every C0 control
        /// (tab, LF and CR would be normalised to spaces on reading), `"`, `&`, `'`, `<`, `>`.
        static let attributeSpecials: UInt64 = 0xFFFF_FFFF | 1 << 0x22 | 1 << 0x26 | 1 << 0x27 | 1 << 0x3C | 1 << 0x3E

        /// Appends `string` escaped, replacing characters XML 1.0 forbids with U+FFFD.
        ///
        /// Scans UTF-8 bytes and copies clean runs in one go. A `String` is valid
        /// Unicode, so the only forbidden characters it can hold are C0 controls other
        /// than tab, LF and CR, and U+FFFE / U+FFFF (`EF BF BE`, `EF BF BF`).
        private mutating func escaped(_ string: String, mask: UInt64) {
            var string = string
            string.withUTF8 { utf8 in
                let count = utf8.count
                var runStart = 0
                var index = 0
                while index < count {
                    let byte = utf8[index]
                    let special = byte < 0x40 ? (mask &>> UInt64(byte)) & 1 != 0 : byte == 0xEF
                    guard special else {
                        index += 1
                        continue
                    }
                    var width = 1
                    if byte == 0xEF {
                        guard index + 2 < count, utf8[index + 1] == 0xBF, utf8[index + 2] & 0xFE == 0xBE else {
                            index += 1
                            continue
                        }
                        width = 3
                    }
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                    switch byte {
                    case 0x26: raw("&amp;")
                    case 0x3C: raw("&lt;")
                    case 0x3E: raw("&gt;")
                    case 0x22: raw("&quot;")
                    case 0x27: raw("&apos;")
                    case 0x09: raw("&#9;")
                    case 0x0A: raw("&#10;")
                    case 0x0D: raw("&#13;")
                    default: raw("\u{FFFD}")
                    }
                    index += width
                    runStart = index
                }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<count]))
            }
        }
    }
}
