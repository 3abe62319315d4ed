/// The XML namespaces catroom speaks, by the names their specifications use.
public enum Namespace {
    // RFC 6120
    public static let client = "jabber:client"
    public static let stream = "http://etherx.jabber.org/streams"
    public static let streamErrors = "urn:ietf:params:xml:ns:xmpp-streams"
    public static let stanzaErrors = "urn:ietf:params:xml:ns:xmpp-stanzas"
    public static let tls = "urn:ietf:params:xml:ns:xmpp-tls"
    public static let sasl = "urn:ietf:params:xml:ns:xmpp-sasl"
    public static let bind = "urn:ietf:params:xml:ns:xmpp-bind"
    /// RFC 3921 session establishment, still sent by some clients (RFC 6121 Appendix E).
    public static let session = "urn:ietf:params:xml:ns:xmpp-session"
    // RFC 6121
    public static let roster = "jabber:iq:roster"
    // XEPs
    public static let register = "jabber:iq:register"             // XEP-0077
    public static let registerFeature = "http://jabber.org/features/iq-register"
    public static let dataForms = "jabber:x:data"                   // XEP-0004
    public static let discoInfo = "http://jabber.org/protocol/disco#info"    // XEP-0030
    public static let discoItems = "http://jabber.org/protocol/disco#items"
    public static let ping = "urn:xmpp:ping"                        // XEP-0199
    public static let muc = "http://jabber.org/protocol/muc"        // XEP-0045
    public static let mucUser = "http://jabber.org/protocol/muc#user"
    public static let mucOwner = "http://jabber.org/protocol/muc#owner"
    public static let xmppErrors = "urn:xmpp:errors"                // XEP-0205 application errors
    public static let streamLimits = "urn:xmpp:stream-limits:0"     // XEP-0478
    // catroom (xep/CR-0003, CR-0004, CR-0005)
    public static let keyRegistration = "urn:catroom:register:0"
    public static let bundles = "urn:catroom:bundles:0"
    public static let encrypted = "urn:catroom:e2e:0"
}
