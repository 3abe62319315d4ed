extension XML {
    /// One attribute: a (namespace, local name) pair and its value.
    ///
    /// Unprefixed attributes are in no namespace (`""`), whatever the element's
    /// default namespace is (Namespaces in XML 1.0 §6.2).
    public struct Attribute: Sendable, Hashable {
        /// The local name, such as `lang` for `xml:lang`.
        public var name: String
        /// The namespace URI, `""` for an unprefixed attribute.
        public var namespace: String
        /// The value after entity and character references are resolved.
        public var value: String

        /// Makes an attribute; `namespace` is `""` for the usual unprefixed kind.
        public init(_ name: String, namespace: String = "", value: String) {
            self.name = name
            self.namespace = namespace
            self.value = value
        }
    }
}
