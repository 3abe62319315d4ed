/// Namespace for the XML element tree, parser and serialiser (no XMPP words here).
public enum XML {}
