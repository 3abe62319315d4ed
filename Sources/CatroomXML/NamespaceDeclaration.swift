extension XML {
    /// A prefix binding written explicitly on an opening tag, such as a stream root's.
    ///
    /// The empty prefix declares the default namespace (`xmlns='jabber:client'`);
    /// any other is written `xmlns:prefix='uri'`.
    public struct NamespaceDeclaration: Sendable, Hashable {
        /// The prefix, `""` for the default namespace.
        public var prefix: String
        /// The namespace URI bound to it.
        public var uri: String

        /// Binds `prefix` (`""` for the default namespace) to `uri`.
        public init(prefix: String, uri: String) {
            self.prefix = prefix
            self.uri = uri
        }

        /// Declares the default namespace.
        public static func defaultNamespace(_ uri: String) -> NamespaceDeclaration {
            NamespaceDeclaration(prefix: "", uri: uri)
        }
    }
}
