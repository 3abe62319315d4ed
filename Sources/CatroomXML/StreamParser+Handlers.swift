import CExpat

// MARK: - Installing the C callbacks

extension XML.StreamParser {
    /// Installs every handler, the user data and the settings; needed after creation and after each `XML_ParserReset`.
    ///
    /// C callbacks cannot capture context, so `self` travels as unretained user data:
    /// the parser owns the expat parser and outlives every call into it.
    func installHandlers() {
        XML_SetUserData(parser, Unmanaged.passUnretained(self).toOpaque())
        XML_SetElementHandler(
            parser,
            { userData, name, attributes in
                guard let name, let attributes else { return }
                XML.StreamParser.owner(userData)?.startElement(name, attributes)
            },
            { userData, _ in XML.StreamParser.owner(userData)?.endElement() }
        )
        XML_SetCharacterDataHandler(parser) { userData, characters, length in
            XML.StreamParser.owner(userData)?.characterData(UnsafeRawBufferPointer(start: characters, count: Int(length)))
        }
        XML_SetCdataSectionHandler(
            parser,
            { userData in XML.StreamParser.owner(userData)?.inCDATA = true },
            { userData in XML.StreamParser.owner(userData)?.inCDATA = false }
        )
        XML_SetXmlDeclHandler(parser) { userData, version, encoding, standalone in
            XML.StreamParser.owner(userData)?.xmlDeclaration(version: version, encoding: encoding, standalone: standalone)
        }
        // RFC 6120 §11.1: no comments, processing instructions, DTDs or entity
        // declarations. The doctype handler fires on `<!DOCTYPE name`, before any
        // internal subset is read, so no entity is ever declared or expanded (XS-01, XS-02).
        XML_SetStartDoctypeDeclHandler(parser) { userData, _, _, _, _ in
            XML.StreamParser.owner(userData)?.restricted("document type declaration")
        }
        XML_SetCommentHandler(parser) { userData, _ in
            XML.StreamParser.owner(userData)?.restricted("comment")
        }
        XML_SetProcessingInstructionHandler(parser) { userData, _, _ in
            XML.StreamParser.owner(userData)?.restricted("processing instruction")
        }
        XML_SetEntityDeclHandler(parser) { userData, _, _, _, _, _, _, _, _ in
            XML.StreamParser.owner(userData)?.restricted("entity declaration")
        }
        XML_SetUnparsedEntityDeclHandler(parser) { userData, _, _, _, _, _ in
            XML.StreamParser.owner(userData)?.restricted("unparsed entity declaration")
        }
        XML_SetNotationDeclHandler(parser) { userData, _, _, _, _ in
            XML.StreamParser.owner(userData)?.restricted("notation declaration")
        }
        XML_SetSkippedEntityHandler(parser) { userData, _, _ in
            XML.StreamParser.owner(userData)?.restricted("entity reference")
        }
        // This one is handed its own argument instead of the user data (the parser by
        // default); returning an error stops expat as well.
        XML_SetExternalEntityRefHandler(parser) { argument, _, _, _, _ in
            XML.StreamParser.owner(UnsafeMutableRawPointer(argument))?.restricted("external entity reference")
            return Int32(XML_STATUS_ERROR.rawValue)
        }
        XML_SetExternalEntityRefHandlerArg(parser, Unmanaged.passUnretained(self).toOpaque())
        _ = catroom_expat_disable_reparse_deferral(parser)
    }

    private static func owner(_ userData: UnsafeMutableRawPointer?) -> XML.StreamParser? {
        userData.map { Unmanaged<XML.StreamParser>.fromOpaque($0).takeUnretainedValue() }
    }
}

// MARK: - Handlers

extension XML.StreamParser {
    /// The current event's byte range (since the last reset), as expat reports it inside a handler.
    private var currentEventRange: (start: Int, end: Int) {
        let start = Int(XML_GetCurrentByteIndex(parser))
        return (start, start + Int(XML_GetCurrentByteCount(parser)))
    }

    fileprivate func startElement(
        _ name: UnsafePointer<XML_Char>,
        _ attributes: UnsafeMutablePointer<UnsafePointer<XML_Char>?>
    ) {
        guard failure == nil else { return }
        depth += 1
        guard depth - 1 <= limits.maxDepth else {
            return fail(.policyViolation(.depthExceeded), detail: "elements nested more than \(limits.maxDepth) deep")
        }
        let range = currentEventRange
        if depth == 2 { elementStart = range.start }
        guard range.end - (depth >= 2 ? elementStart : boundary) <= limits.maxElementBytes else {
            return fail(.stanzaTooBig, detail: "an element larger than \(limits.maxElementBytes) bytes")
        }
        var attributeCount = 0
        while attributes[2 * attributeCount] != nil { attributeCount += 1 }
        guard attributeCount <= limits.maxAttributes else {
            return fail(.policyViolation(.tooManyAttributes), detail: "more than \(limits.maxAttributes) attributes")
        }
        guard let (namespace, localName) = splitName(name) else { return }
        var element = XML.Element(localName, namespace: namespace, attributes: [])
        element.attributes.reserveCapacity(attributeCount)
        for index in 0..<attributeCount {
            // Expat hands (name, value) pairs, both non-null, up to the counted end.
            guard let name = attributes[2 * index], let rawValue = attributes[2 * index + 1],
                  let (namespace, localName) = splitName(name)
            else { return }
            let value = UnsafeRawBufferPointer(start: rawValue, count: strlen(rawValue))
            guard value.count <= limits.maxAttributeValueBytes else {
                return fail(.policyViolation(.attributeValueTooLong), detail: "an attribute value over \(limits.maxAttributeValueBytes) bytes")
            }
            element.attributes.append(XML.Attribute(localName, namespace: namespace, value: String(decoding: value, as: UTF8.self)))
        }
        if depth == 1 {
            events.append(.streamOpened(element))
            boundary = range.end
            headerEnd = range.end
        } else {
            flushText()
            openElements.append(element)
        }
    }

    fileprivate func endElement() {
        guard failure == nil else { return }
        let range = currentEventRange
        guard depth < 2 || range.end - elementStart <= limits.maxElementBytes else {
            return fail(.stanzaTooBig, detail: "an element larger than \(limits.maxElementBytes) bytes")
        }
        depth -= 1
        if depth == 0 {
            events.append(.streamClosed)
            boundary = max(boundary, range.end)
            closed = true
            _ = XML_StopParser(parser, XML_FALSE)
            return
        }
        flushText()
        let element = openElements.removeLast()
        if openElements.isEmpty {
            events.append(.element(element))
            boundary = max(boundary, range.end)
        } else {
            openElements[openElements.count - 1].children.append(.element(element))
        }
    }

    fileprivate func characterData(_ characters: UnsafeRawBufferPointer) {
        guard failure == nil else { return }
        let range = currentEventRange
        if depth >= 2 {
            guard range.end - elementStart <= limits.maxElementBytes else {
                return fail(.stanzaTooBig, detail: "an element larger than \(limits.maxElementBytes) bytes")
            }
            pendingText.append(contentsOf: characters)
        } else {
            // Between top-level elements only whitespace may appear (keepalives).
            guard characters.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x09 || $0 == 0x0D }) else {
                return fail(.notWellFormed, detail: "text between top-level elements")
            }
            streamWhitespaceBytes += characters.count
            boundary = max(boundary, range.end)
        }
    }

    fileprivate func xmlDeclaration(
        version: UnsafePointer<XML_Char>?,
        encoding: UnsafePointer<XML_Char>?,
        standalone: Int32
    ) {
        guard failure == nil else { return }
        // As Prosody's XmlDecl handler: XML 1.0, UTF-8, and no standalone='no'
        // (which announces external markup declarations).
        if let version, String(cString: version) != "1.0" {
            fail(.unsupportedVersion, detail: "XML version \(String(cString: version))")
        } else if let encoding, String(cString: encoding).lowercased() != "utf-8" {
            fail(.unsupportedEncoding, detail: "encoding \(String(cString: encoding))")
        } else if standalone == 0 {
            fail(.restrictedXML, detail: "standalone='no'")
        }
    }

    fileprivate func restricted(_ construct: String) {
        guard failure == nil else { return }
        fail(.restrictedXML, detail: "restricted XML (RFC 6120 §11.1): \(construct)")
    }

    // MARK: - Text and names

    private func flushText() {
        guard !pendingText.isEmpty else { return }
        let text = String(decoding: pendingText, as: UTF8.self)
        pendingText.removeAll(keepingCapacity: true)
        openElements[openElements.count - 1].children.append(.text(text))
    }

    /// Splits expat's `namespace U+0001 localname` (or a bare local name) and checks both lengths.
    private func splitName(_ name: UnsafePointer<XML_Char>) -> (namespace: String, localName: String)? {
        let bytes = UnsafeRawBufferPointer(start: name, count: strlen(name))
        let separator = bytes.firstIndex(of: 0x01)
        let localName = UnsafeRawBufferPointer(rebasing: bytes[(separator.map { $0 + 1 } ?? 0)...])
        let namespace = UnsafeRawBufferPointer(rebasing: bytes[..<(separator ?? 0)])
        guard localName.count <= limits.maxNameBytes, namespace.count <= limits.maxNameBytes else {
            fail(.policyViolation(.nameTooLong), detail: "a name or namespace over \(limits.maxNameBytes) bytes")
            return nil
        }
        return (internedNamespace(namespace), String(decoding: localName, as: UTF8.self))
    }

    /// Returns a cached `String` for a namespace URI seen recently: a stream uses a handful.
    private func internedNamespace(_ bytes: UnsafeRawBufferPointer) -> String {
        if bytes.isEmpty { return "" }
        for (index, cached) in namespaceCache.enumerated() where cached.utf8.count == bytes.count {
            var cached = cached
            if cached.withUTF8({ $0.elementsEqual(bytes) }) {
                if index > 0 { namespaceCache.swapAt(index, index - 1) }
                return cached
            }
        }
        let namespace = String(decoding: bytes, as: UTF8.self)
        if namespaceCache.count == 8 { namespaceCache.removeLast() }
        namespaceCache.append(namespace)
        return namespace
    }
}
