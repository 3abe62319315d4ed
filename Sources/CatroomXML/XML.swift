/// Namespace for the XML element tree, parser and serialiser (no XMPP words here).
///
/// Names are always a (namespace URI, local name) pair, never a prefix: prefixes are
/// a property of one serialisation, and routing by them is a classic confusion bug.
public enum XML {
    /// The namespace bound to the `xml` prefix (`xml:lang`, `xml:space`), which is never declared.
    public static let xmlNamespace = "http://www.w3.org/XML/1998/namespace"

    /// The namespace of `xmlns` declarations themselves; no attribute of the tree may use it.
    public static let xmlnsNamespace = "http://www.w3.org/2000/xmlns/"
}
