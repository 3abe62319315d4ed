import CExpat

extension XML.StreamParser {
    /// Rejects UTF-16 and UTF-32 input from its first two bytes, before expat sees them.
    ///
    /// Even when told the input is UTF-8, expat switches to UTF-16 on a byte-order
    /// mark, and RFC 6120 §11.6 allows only UTF-8. A NUL or FE/FF among the first two
    /// bytes is never UTF-8 XML (XML 1.0 Appendix F lists the patterns).
    func checkLeadingBytes(_ bytes: UnsafeRawBufferPointer) {
        guard leadingBytes.count < 2 else { return }
        leadingBytes.append(contentsOf: bytes.prefix(2 - leadingBytes.count))
        guard let first = leadingBytes.first else { return }
        // The first byte is judged alone, so the verdict does not depend on how the bytes were split.
        if first == 0x00 || first == 0xFE || first == 0xFF {
            fail(.unsupportedEncoding, detail: "UTF-16 or UTF-32 input (RFC 6120 §11.6 requires UTF-8)")
        } else if !Self.mayStartDocument(first) {
            // A document starts with markup, whitespace or a UTF-8 byte-order mark (XML 1.0 §2.1,
            // §4.3.3); expat would wait for the rest of a junk token, so it is refused here at once.
            fail(.notWellFormed, detail: "the stream does not start with '<'")
        } else if leadingBytes.dropFirst().first == 0x00 {
            fail(.unsupportedEncoding, detail: "UTF-16 or UTF-32 input (RFC 6120 §11.6 requires UTF-8)")
        }
    }

    static func mayStartDocument(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "<") || byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0xEF
    }

    /// Maps the error expat stopped with to the stream error to send.
    func expatError() -> XML.StreamError {
        switch XML_GetErrorCode(parser) {
        case XML_ERROR_NO_MEMORY:
            return .resourceConstraint
        case XML_ERROR_MISPLACED_XML_PI, XML_ERROR_AMPLIFICATION_LIMIT_BREACH:
            return .restrictedXML
        case XML_ERROR_UNKNOWN_ENCODING, XML_ERROR_INCORRECT_ENCODING:
            return .unsupportedEncoding
        case XML_ERROR_INVALID_TOKEN where followsMarkupDeclarationOpener():
            // `<!DOCTYPE` or `<!ENTITY` after the root opened is a syntax error to expat,
            // but it is a DTD attempt, which RFC 6120 §11.1 names restricted XML.
            return .restrictedXML
        default:
            return .notWellFormed
        }
    }

    /// Whether the byte expat failed on comes right after `<!` (and is not a comment's or CDATA section's).
    private func followsMarkupDeclarationOpener() -> Bool {
        var offset: Int32 = 0
        var size: Int32 = 0
        guard let context = XML_GetInputContext(parser, &offset, &size), offset >= 2, offset < size else {
            return false
        }
        let bytes = UnsafeRawPointer(context).assumingMemoryBound(to: UInt8.self)
        let next = bytes[Int(offset)]
        return bytes[Int(offset) - 2] == UInt8(ascii: "<") && bytes[Int(offset) - 1] == UInt8(ascii: "!")
            && next != UInt8(ascii: "-") && next != UInt8(ascii: "[")
    }

    /// expat's own message and position, for `failureDetail`.
    func expatErrorDetail() -> String {
        let code = XML_GetErrorCode(parser)
        let message = XML_ErrorString(code).map { String(cString: $0) } ?? "unknown error"
        return "expat error \(code.rawValue) (\(message)) at line \(XML_GetCurrentLineNumber(parser)), "
            + "column \(XML_GetCurrentColumnNumber(parser)), byte \(XML_GetCurrentByteIndex(parser))"
    }
}
