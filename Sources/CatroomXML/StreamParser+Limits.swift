extension XML.StreamParser {
    /// Every limit the stream parser enforces, named once; breaking any of them ends the stream.
    public struct Limits: Sendable, Hashable {
        /// Largest top-level element in bytes, counted from the first byte of its start
        /// tag; it also bounds the root's start tag (with anything before it) and any run
        /// of bytes between elements. Prosody's c2s default is 256 KiB too.
        public var maxElementBytes: Int
        /// Deepest nesting below the root: a top-level element is at depth 1.
        public var maxDepth: Int
        /// Most attributes on one element (namespace declarations are not counted).
        public var maxAttributes: Int
        /// Longest local name or namespace URI, in UTF-8 bytes.
        public var maxNameBytes: Int
        /// Longest attribute value, in UTF-8 bytes after references are resolved.
        public var maxAttributeValueBytes: Int

        /// Makes limits; the defaults suit a chat server's client-to-server streams.
        public init(
            maxElementBytes: Int = 256 * 1024,
            maxDepth: Int = 64,
            maxAttributes: Int = 64,
            maxNameBytes: Int = 1024,
            maxAttributeValueBytes: Int = 64 * 1024
        ) {
            precondition(maxElementBytes > 0 && maxDepth > 0 && maxAttributes >= 0 && maxNameBytes > 0)
            self.maxElementBytes = maxElementBytes
            self.maxDepth = maxDepth
            self.maxAttributes = maxAttributes
            self.maxNameBytes = maxNameBytes
            self.maxAttributeValueBytes = maxAttributeValueBytes
        }
    }
}
