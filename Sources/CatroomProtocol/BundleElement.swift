import CatroomCrypto
import CatroomXML

/// A prekey bundle on the wire (xep/CR-0004 §5.1):
///
///     <bundle xmlns='urn:catroom:bundles:0'>
///       <identity-key>base64</identity-key>
///       <signed-pre-key id='1' signature='base64'>base64</signed-pre-key>
///       <pre-key id='7'>base64</pre-key> ...
///     </bundle>
public struct BundleElement: Sendable, Equatable {
    /// One-time prekeys the server stores per account, in all and so also in one
    /// publication (CR-0004 §7). A client's first publication fills it.
    public static let capacity = 100

    public var identityKey: IdentityKey
    public var signedPreKey: SignedPreKey
    public var oneTimePreKeys: [OneTimePreKey]

    public init(identityKey: IdentityKey, signedPreKey: SignedPreKey, oneTimePreKeys: [OneTimePreKey]) {
        self.identityKey = identityKey
        self.signedPreKey = signedPreKey
        self.oneTimePreKeys = oneTimePreKeys
    }

    /// Parses and validates every key (CR-0001 §4.3); `bad-request` on anything malformed.
    public init(_ element: XML.Element) throws(StanzaError) {
        let bad = StanzaError(.badRequest, text: "malformed bundle")
        guard element.name == "bundle", element.namespace == Namespace.bundles,
              let identity = element.firstChild(name: "identity-key", namespace: Namespace.bundles),
              let identityBytes = [UInt8](base64: identity.text), let identityKey = try? IdentityKey(bytes: identityBytes),
              let signed = element.firstChild(name: "signed-pre-key", namespace: Namespace.bundles),
              let signedID = signed.attribute("id").flatMap(Self.decimal),
              let signature = signed.attribute("signature").flatMap({ [UInt8](base64: $0) }), signature.count == 64,
              let signedBytes = [UInt8](base64: signed.text), let signedKey = try? X25519.PublicKey(bytes: signedBytes)
        else { throw bad }
        var oneTime: [OneTimePreKey] = []
        for preKey in element.children(name: "pre-key", namespace: Namespace.bundles) {
            guard let id = preKey.attribute("id").flatMap(Self.decimal),
                  let bytes = [UInt8](base64: preKey.text), let key = try? X25519.PublicKey(bytes: bytes)
            else { throw bad }
            oneTime.append(OneTimePreKey(id: id, publicKey: key))
        }
        guard Set(oneTime.map(\.id)).count == oneTime.count else { throw bad }
        self.identityKey = identityKey
        self.signedPreKey = SignedPreKey(id: signedID, publicKey: signedKey, signature: signature)
        self.oneTimePreKeys = oneTime
    }

    /// A u32 in plain decimal digits (no sign, which `UInt32.init` would accept).
    static func decimal(_ text: String) -> UInt32? {
        guard !text.isEmpty, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return UInt32(text)
    }

    public var element: XML.Element {
        var bundle = XML.Element("bundle", namespace: Namespace.bundles, attributes: [])
        bundle.append(XML.Element("identity-key", namespace: Namespace.bundles, attributes: [], children: [.text(identityKey.bytes.base64)]))
        bundle.append(XML.Element(
            "signed-pre-key", namespace: Namespace.bundles,
            attributes: [XML.Attribute("id", value: String(signedPreKey.id)), XML.Attribute("signature", value: signedPreKey.signature.base64)],
            children: [.text(signedPreKey.publicKey.bytes.base64)]))
        for preKey in oneTimePreKeys {
            bundle.append(XML.Element(
                "pre-key", namespace: Namespace.bundles, attributes: [XML.Attribute("id", value: String(preKey.id))],
                children: [.text(preKey.publicKey.bytes.base64)]))
        }
        return bundle
    }

    /// The bundle as an initiator uses it (X3DH §3.2): at most one one-time prekey.
    public var preKeyBundle: PreKeyBundle? {
        guard oneTimePreKeys.count <= 1 else { return nil }
        return PreKeyBundle(identityKey: identityKey, signedPreKey: signedPreKey, oneTimePreKey: oneTimePreKeys.first)
    }
}
