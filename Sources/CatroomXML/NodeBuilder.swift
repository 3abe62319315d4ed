extension XML {
    /// Builds a list of children from elements, strings, optional parts, `if` and `for`.
    ///
    /// Adjacent strings are merged and empty ones dropped, so a built tree compares
    /// equal to the same tree read back by the parser.
    @resultBuilder
    public enum NodeBuilder {
        /// An element child.
        public static func buildExpression(_ element: Element) -> [Node] { [.element(element)] }
        /// A text child.
        public static func buildExpression(_ text: String) -> [Node] { [.text(text)] }
        /// A ready-made node.
        public static func buildExpression(_ node: Node) -> [Node] { [node] }
        /// Several element children, such as a `map` result.
        public static func buildExpression(_ elements: [Element]) -> [Node] { elements.map(Node.element) }
        /// An element that may be absent.
        public static func buildExpression(_ element: Element?) -> [Node] { element.map { [.element($0)] } ?? [] }

        /// Joins the parts, merging adjacent text.
        public static func buildBlock(_ parts: [Node]...) -> [Node] { merged(parts.joined()) }
        /// The body of an `if` without `else`.
        public static func buildOptional(_ part: [Node]?) -> [Node] { part ?? [] }
        /// The first branch of an `if`/`else` or `switch`.
        public static func buildEither(first part: [Node]) -> [Node] { part }
        /// The second branch of an `if`/`else` or `switch`.
        public static func buildEither(second part: [Node]) -> [Node] { part }
        /// The bodies of a `for` loop.
        public static func buildArray(_ parts: [[Node]]) -> [Node] { merged(parts.joined()) }

        static func merged(_ nodes: some Sequence<Node>) -> [Node] {
            var result: [Node] = []
            for node in nodes {
                guard case .text(let text) = node else {
                    result.append(node)
                    continue
                }
                if text.isEmpty { continue }
                if case .text(let previous)? = result.last {
                    result[result.count - 1] = .text(previous + text)
                } else {
                    result.append(node)
                }
            }
            return result
        }
    }
}
