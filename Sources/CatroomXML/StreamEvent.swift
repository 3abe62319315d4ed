extension XML {
    /// What the stream parser reports as the bytes complete something.
    public enum StreamEvent: Sendable, Hashable {
        /// The stream root's start tag: name, namespace and attributes, no children.
        case streamOpened(Element)
        /// One complete top-level child of the root (depth 1), with its whole subtree.
        case element(Element)
        /// The root's end tag.
        case streamClosed
    }
}
