/// An XMPP address (RFC 7622): `[localpart@]domainpart[/resourcepart]`.
///
/// catroom accepts a conservative subset so that comparison is exact: localparts
/// and domainparts are ASCII and compared case-insensitively (stored lowercased);
/// resourceparts are any UTF-8 without control characters, compared as given.
/// Full PRECIS (RFC 8264/8265) is not implemented; addresses outside this subset
/// are rejected as `jid-malformed` rather than mapped.
public struct JID: Hashable, Sendable, CustomStringConvertible {
    public let localpart: String?
    public let domain: String
    public let resource: String?

    /// RFC 7622 §3: each part is at most 1023 bytes.
    public static let maximumPartBytes = 1023

    public struct Malformed: Error, Hashable, Sendable {}

    public init(localpart: String?, domain: String, resource: String? = nil) throws(Malformed) {
        guard let domain = Self.normalizedDomain(domain) else { throw Malformed() }
        var normalizedLocal: String?
        if let localpart {
            guard let local = Self.normalizedLocalpart(localpart) else { throw Malformed() }
            normalizedLocal = local
        }
        if let resource {
            guard Self.isValidResource(resource) else { throw Malformed() }
        }
        self.localpart = normalizedLocal
        self.domain = domain
        self.resource = resource
    }

    /// Parses a JID string (RFC 7622 §3.1: the first `/` starts the resource, then the first `@` before it ends the localpart).
    public init(_ string: String) throws(Malformed) {
        var rest = Substring(string)
        var resource: String?
        if let slash = rest.firstIndex(of: "/") {
            resource = String(rest[rest.index(after: slash)...])
            rest = rest[..<slash]
        }
        var localpart: String?
        if let at = rest.firstIndex(of: "@") {
            localpart = String(rest[..<at])
            rest = rest[rest.index(after: at)...]
        }
        try self.init(localpart: localpart, domain: String(rest), resource: resource)
    }

    /// The JID without its resource.
    public var bare: JID { resource == nil ? self : JID(trusted: localpart, domain, nil) }

    public var isBare: Bool { resource == nil }

    /// This bare JID with `resource`; the resource must be valid.
    public func with(resource: String) throws(Malformed) -> JID {
        guard Self.isValidResource(resource) else { throw Malformed() }
        return JID(trusted: localpart, domain, resource)
    }

    public var description: String {
        var text = localpart.map { $0 + "@" } ?? ""
        text += domain
        if let resource { text += "/" + resource }
        return text
    }

    /// For parts already checked (`bare`, `RoomName.address`).
    init(trusted localpart: String?, _ domain: String, _ resource: String?) {
        self.localpart = localpart
        self.domain = domain
        self.resource = resource
    }

    // MARK: - Rules

    /// Characters RFC 7622 §3.3.1 forbids in a localpart, plus space.
    private static let forbiddenInLocalpart = Set(" \"&'/:<>@".utf8)

    public static func normalizedLocalpart(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= maximumPartBytes,
              bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7f && !forbiddenInLocalpart.contains($0) })
        else { return nil }
        return text.lowercased()
    }

    public static func normalizedDomain(_ text: String) -> String? {
        var text = text
        if text.hasSuffix(".") { text.removeLast() }  // RFC 7622 §3.2: a trailing dot is removed
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= maximumPartBytes else { return nil }
        // DNS names (letters, digits, hyphen, dot) or an IPv6 literal in brackets.
        if bytes.first == UInt8(ascii: "["), bytes.last == UInt8(ascii: "]") {
            let inside = bytes.dropFirst().dropLast()
            guard inside.contains(UInt8(ascii: ":")),
                  inside.allSatisfy({ isHexDigit($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") })
            else { return nil }
            return text.lowercased()
        }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.allSatisfy({ label in
            !label.isEmpty && label.utf8.count <= 63 && label.utf8.allSatisfy { isLetterOrDigit($0) || $0 == UInt8(ascii: "-") }
        }) else { return nil }
        return text.lowercased()
    }

    public static func isValidResource(_ text: String) -> Bool {
        let count = text.utf8.count
        return count > 0 && count <= maximumPartBytes
            && text.unicodeScalars.allSatisfy { !($0.properties.generalCategory == .control) }
    }

    private static func isLetterOrDigit(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        isLetterOrDigit(byte) && (byte <= UInt8(ascii: "9") || (byte | 0x20) <= UInt8(ascii: "f"))
    }
}
