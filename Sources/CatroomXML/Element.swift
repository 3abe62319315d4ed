extension XML {
    /// An element with its attributes and children, as parsed or as built to be sent.
    ///
    /// A value type: copies are cheap until one is changed. Names must be valid XML
    /// names; the parser guarantees it, and code that builds elements writes literals.
    public struct Element: Sendable, Hashable {
        /// The local name (`message`, `body`), never prefixed.
        public var name: String
        /// The namespace URI, `""` for none.
        public var namespace: String
        /// Attributes in document order.
        public var attributes: [Attribute]
        /// Child elements and text in document order.
        public var children: [Node]

        /// Makes an element from ready-made attributes and children.
        public init(_ name: String, namespace: String = "", attributes: [Attribute], children: [Node] = []) {
            self.name = name
            self.namespace = namespace
            self.attributes = attributes
            self.children = children
        }

        /// Builds an element with unprefixed attributes in the order written and children from a builder.
        ///
        ///     XML.Element("message", namespace: "jabber:client", attributes: ["to": to, "type": "chat"]) {
        ///         XML.Element("body", namespace: "jabber:client") { text }
        ///     }
        public init(
            _ name: String,
            namespace: String = "",
            attributes: KeyValuePairs<String, String> = [:],
            @NodeBuilder children: () -> [Node] = { [] }
        ) {
            self.name = name
            self.namespace = namespace
            self.attributes = attributes.map { Attribute($0.key, value: $0.value) }
            self.children = children()
        }
    }
}
