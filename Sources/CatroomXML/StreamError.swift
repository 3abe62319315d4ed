extension XML {
    /// Why a stream cannot go on; each case is one RFC 6120 §4.9.3 stream-error condition.
    ///
    /// Every error is final: the parser keeps throwing it, and the caller sends the
    /// stream error, `</stream:stream>`, and closes.
    public enum StreamError: Error, Hashable, Sendable {
        /// `<not-well-formed/>` (§4.9.3.13): any expat syntax error, invalid UTF-8
        /// (overlong forms, surrogates, stray bytes), a character XML 1.0 forbids, an
        /// undefined entity, a duplicate attribute, an unbound prefix, and non-whitespace
        /// text between top-level elements.
        case notWellFormed
        /// `<restricted-xml/>` (§4.9.3.18, §11.1): a DTD, comment, processing
        /// instruction, entity declaration or reference, or a misplaced XML declaration.
        case restrictedXML
        /// `<unsupported-encoding/>` (§4.9.3.22, §11.6): an XML declaration naming an
        /// encoding other than UTF-8, or UTF-16 input.
        case unsupportedEncoding
        /// `<unsupported-version/>` (§4.9.3.25) for an XML (not XMPP) version other than 1.0.
        case unsupportedVersion
        /// `<policy-violation/>` (§4.9.3.14) for a structural limit in `StreamParser.Limits`.
        case policyViolation(Policy)
        /// `<policy-violation/>` plus `<stanza-too-big xmlns='urn:xmpp:errors'/>` (XEP-0205
        /// §4.5, as Prosody sends): a top-level element, the root's start tag or the
        /// bytes between elements outgrew `Limits.maxElementBytes`.
        case stanzaTooBig
        /// `<resource-constraint/>` (§4.9.3.17): expat ran out of memory.
        case resourceConstraint

        /// The structural limit a `policyViolation` broke.
        public enum Policy: String, Sendable, Hashable {
            /// Elements nested deeper than `Limits.maxDepth` below the root.
            case depthExceeded = "nesting too deep"
            /// More attributes on one element than `Limits.maxAttributes`.
            case tooManyAttributes = "too many attributes"
            /// A local name or namespace URI longer than `Limits.maxNameBytes`.
            case nameTooLong = "name too long"
            /// An attribute value longer than `Limits.maxAttributeValueBytes`.
            case attributeValueTooLong = "attribute value too long"
        }
    }
}
