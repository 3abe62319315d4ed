extension XML {
    /// A child of an element: another element or a run of text.
    public enum Node: Sendable, Hashable {
        /// A child element.
        case element(Element)
        /// Character data; the parser merges adjacent runs (including CDATA) into one node.
        case text(String)

        /// The element, if this node is one.
        public var element: Element? {
            if case .element(let element) = self { element } else { nil }
        }

        /// The text, if this node is text.
        public var text: String? {
            if case .text(let text) = self { text } else { nil }
        }
    }
}
