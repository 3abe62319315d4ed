extension XML.Element {
    /// Serialises the element and its subtree as UTF-8.
    ///
    /// `inheritedNamespace` is the default namespace in scope where the bytes will go
    /// (a stream's `jabber:client`): `xmlns='…'` is written only where an element's
    /// namespace differs from its parent's, or at the top from this one. Attributes in
    /// the XML namespace are written `xml:lang`; other namespaced attributes get
    /// generated prefixes. Elements without children are self-closed.
    ///
    /// Characters XML 1.0 forbids (C0 controls other than tab, LF and CR; U+FFFE;
    /// U+FFFF) are replaced with U+FFFD rather than trapping, so text that slipped in
    /// from a file or a terminal can never make the server send ill-formed XML. CR, and
    /// tab and LF in attribute values, are written as character references so they
    /// survive a round trip.
    public func serialized(inheritedNamespace: String = "") -> [UInt8] {
        var serializer = XML.Serializer(capacity: estimatedSerializedSize)
        serializer.write(self, defaultNamespace: inheritedNamespace)
        return serializer.bytes
    }

    /// Appends the serialisation to `buffer`, for callers that reuse one buffer.
    public func serialize(into buffer: inout [UInt8], inheritedNamespace: String = "") {
        buffer.reserveCapacity(buffer.count + estimatedSerializedSize)
        var serializer = XML.Serializer(appendingTo: buffer)
        buffer = []  // so the serializer holds the only reference and appends in place
        serializer.write(self, defaultNamespace: inheritedNamespace)
        buffer = serializer.bytes
    }

    /// `serialized(inheritedNamespace:)` as a `String`.
    public func serializedString(inheritedNamespace: String = "") -> String {
        String(decoding: serialized(inheritedNamespace: inheritedNamespace), as: UTF8.self)
    }

    /// Serialises only the start tag, with `declarations` written first and no end tag.
    ///
    /// For a stream root: the element's namespace must be bound by one of the
    /// declarations (the first match gives its prefix), children are ignored, and
    /// `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='x' version='1.0'>`
    /// comes from `declaring: [.defaultNamespace("jabber:client"), .init(prefix: "stream", uri: "http://etherx.jabber.org/streams")]`.
    public func serializedOpeningTag(declaring declarations: [XML.NamespaceDeclaration]) -> [UInt8] {
        var serializer = XML.Serializer(capacity: 64 + estimatedSerializedSize)
        serializer.writeOpeningTag(self, declaring: declarations)
        return serializer.bytes
    }

    /// The end tag matching `serializedOpeningTag(declaring:)` with the same declarations.
    public func serializedClosingTag(declaring declarations: [XML.NamespaceDeclaration]) -> [UInt8] {
        var serializer = XML.Serializer(capacity: name.utf8.count + 16)
        serializer.writeClosingTag(self, declaring: declarations)
        return serializer.bytes
    }

    /// A size guess for the buffer: names, values and text plus markup, before escaping.
    var estimatedSerializedSize: Int {
        var size = 2 * name.utf8.count + 5 + (namespace.isEmpty ? 0 : namespace.utf8.count + 10)
        for attribute in attributes {
            size += attribute.name.utf8.count + attribute.value.utf8.count + 4
        }
        for child in children {
            switch child {
            case .element(let element): size += element.estimatedSerializedSize
            case .text(let text): size += text.utf8.count
            }
        }
        return size
    }
}

extension XML.Element: CustomStringConvertible {
    /// The serialised element, for logs and test failures.
    public var description: String { serializedString() }
}

extension XML {
    /// Appends `value` escaped exactly as the serialiser writes an attribute value
    /// between single quotes, for callers that splice values into serialised bytes.
    public static func appendAttributeValue(_ value: String, to buffer: inout [UInt8]) {
        var serializer = Serializer(appendingTo: buffer)
        buffer = []  // so the serializer holds the only reference and appends in place
        serializer.attributeValue(value)
        buffer = serializer.bytes
    }
}
