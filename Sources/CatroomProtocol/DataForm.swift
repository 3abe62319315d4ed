import CatroomXML

/// The small part of XEP-0004 data forms that registration needs.
public struct DataForm: Sendable, Equatable {
    public struct Field: Sendable, Equatable {
        public var name: String
        public var type: String?
        public var label: String?
        public var required = false
        public var values: [String]

        public init(_ name: String, type: String? = nil, label: String? = nil, required: Bool = false, values: [String] = []) {
            self.name = name
            self.type = type
            self.label = label
            self.required = required
            self.values = values
        }
    }

    /// `form`, `submit`, `cancel` or `result` (XEP-0004 §3.1).
    public var type: String
    public var fields: [Field]

    public init(type: String, fields: [Field]) {
        self.type = type
        self.fields = fields
    }

    /// Reads `<x xmlns='jabber:x:data'/>`; nil if `element` is not one.
    public init?(_ element: XML.Element) {
        guard element.name == "x", element.namespace == Namespace.dataForms, let type = element.attribute("type") else { return nil }
        self.type = type
        fields = element.children(name: "field", namespace: Namespace.dataForms).compactMap { field in
            guard let name = field.attribute("var") else { return nil }
            return Field(
                name, type: field.attribute("type"), label: field.attribute("label"),
                required: field.firstChild(name: "required", namespace: Namespace.dataForms) != nil,
                values: field.children(name: "value", namespace: Namespace.dataForms).map(\.text))
        }
    }

    /// The single value of field `name`, if present exactly once.
    public func value(_ name: String) -> String? {
        let matching = fields.filter { $0.name == name }
        guard matching.count == 1, matching[0].values.count == 1 else { return nil }
        return matching[0].values[0]
    }

    public var element: XML.Element {
        var form = XML.Element("x", namespace: Namespace.dataForms, attributes: [XML.Attribute("type", value: type)])
        for field in fields {
            var node = XML.Element("field", namespace: Namespace.dataForms, attributes: [XML.Attribute("var", value: field.name)])
            node[attribute: "type"] = field.type
            node[attribute: "label"] = field.label
            if field.required { node.append(XML.Element("required", namespace: Namespace.dataForms, attributes: [])) }
            for value in field.values {
                node.append(XML.Element("value", namespace: Namespace.dataForms, attributes: [], children: [.text(value)]))
            }
            form.append(node)
        }
        return form
    }
}
