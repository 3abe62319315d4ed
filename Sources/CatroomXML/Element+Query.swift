extension XML.Element {
    /// The value of an attribute, or `nil`; `namespace` is `""` for unprefixed attributes.
    public func attribute(_ name: String, namespace: String = "") -> String? {
        attributes.first { $0.name == name && $0.namespace == namespace }?.value
    }

    /// Reads, replaces, adds (at the end) or, given `nil`, removes an attribute.
    public subscript(attribute name: String, namespace namespace: String = "") -> String? {
        get { attribute(name, namespace: namespace) }
        set {
            let index = attributes.firstIndex { $0.name == name && $0.namespace == namespace }
            switch (index, newValue) {
            case (let index?, let value?): attributes[index].value = value
            case (let index?, nil): attributes.remove(at: index)
            case (nil, let value?): attributes.append(XML.Attribute(name, namespace: namespace, value: value))
            case (nil, nil): break
            }
        }
    }

    /// The child elements, without text.
    public var childElements: [XML.Element] {
        children.compactMap(\.element)
    }

    /// The first child element with this name and namespace.
    public func firstChild(name: String, namespace: String) -> XML.Element? {
        for case .element(let child) in children where child.name == name && child.namespace == namespace {
            return child
        }
        return nil
    }

    /// All child elements with this name and namespace, in order.
    public func children(name: String, namespace: String) -> [XML.Element] {
        childElements.filter { $0.name == name && $0.namespace == namespace }
    }

    /// The direct text children joined (text inside child elements is not included).
    public var text: String {
        var result = ""
        for case .text(let text) in children {
            result += text
        }
        return result
    }

    /// Appends a child element.
    public mutating func append(_ child: XML.Element) {
        children.append(.element(child))
    }

    /// Appends text, merging it into a text node that ends the children.
    public mutating func append(text: String) {
        guard !text.isEmpty else { return }
        if case .text(let previous)? = children.last {
            children[children.count - 1] = .text(previous + text)
        } else {
            children.append(.text(text))
        }
    }
}
