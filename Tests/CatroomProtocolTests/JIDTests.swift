import CatroomProtocol
import Testing

/// RFC 7622 addresses, in the ASCII subset catroom accepts.
struct JIDTests {
    // MARK: - Parsing (RFC 7622 §3.1)

    @Test func parsesBareJID() throws {
        let jid = try JID("alice@example.com")
        #expect(jid.localpart == "alice")
        #expect(jid.domain == "example.com")
        #expect(jid.resource == nil)
        #expect(jid.isBare)
    }

    @Test func parsesFullJID() throws {
        let jid = try JID("alice@example.com/phone")
        #expect(jid.localpart == "alice")
        #expect(jid.domain == "example.com")
        #expect(jid.resource == "phone")
        #expect(!jid.isBare)
    }

    @Test func parsesDomainOnlyJIDs() throws {
        let domain = try JID("example.com")
        #expect(domain.localpart == nil)
        #expect(domain.domain == "example.com")
        #expect(domain.resource == nil)

        let withResource = try JID("example.com/admin")
        #expect(withResource.localpart == nil)
        #expect(withResource.resource == "admin")
    }

    @Test func firstSlashStartsTheResource() throws {
        let jid = try JID("a@b/c@d/e")
        #expect(jid.localpart == "a")
        #expect(jid.domain == "b")
        #expect(jid.resource == "c@d/e")

        // An '@' after the first '/' belongs to the resource, so there is no localpart.
        let noLocal = try JID("example.com/x@y")
        #expect(noLocal.localpart == nil)
        #expect(noLocal.domain == "example.com")
        #expect(noLocal.resource == "x@y")

        let slashes = try JID("example.com//a/b/")
        #expect(slashes.resource == "/a/b/")
    }

    @Test func rejectsASecondAtSignBeforeTheResource() {
        #expect(throws: JID.Malformed.self) { try JID("a@b@example.com") }
    }

    // MARK: - Normalisation

    @Test func lowercasesLocalpartAndDomainButNotResource() throws {
        let jid = try JID("Alice@Example.COM/Phone")
        #expect(jid.localpart == "alice")
        #expect(jid.domain == "example.com")
        #expect(jid.resource == "Phone")
        #expect(jid.description == "alice@example.com/Phone")
        #expect(try JID("ALICE@example.com") == JID("alice@EXAMPLE.com"))
        #expect(try JID("alice@example.com/Phone") != JID("alice@example.com/phone"))
    }

    @Test func initializerFromPartsNormalisesToo() throws {
        let jid = try JID(localpart: "Bob", domain: "Example.org.", resource: "Desk")
        #expect(jid == (try JID("bob@example.org/Desk")))
    }

    @Test func removesATrailingDotFromTheDomain() throws {
        let jid = try JID("alice@example.com./r")
        #expect(jid.domain == "example.com")
        #expect(jid == (try JID("alice@example.com/r")))
        #expect(try JID("example.com.").description == "example.com")
    }

    @Test(arguments: [".", "example.com..", ".example.com", "a..b"])
    func rejectsEmptyDomainLabels(_ domain: String) {
        #expect(throws: JID.Malformed.self) { try JID(domain) }
    }

    @Test func equalJIDsHashAlike() throws {
        let set: Set<JID> = [try JID("A@B.c/r"), try JID("a@b.C/r"), try JID("a@b.c./r")]
        #expect(set.count == 1)
    }

    // MARK: - Empty parts

    @Test(arguments: ["", "@example.com", "alice@", "alice@/r", "alice@example.com/", "example.com/", "/r", "@", "@/"])
    func rejectsEmptyParts(_ string: String) {
        #expect(throws: JID.Malformed.self) { try JID(string) }
    }

    @Test func rejectsEmptyPartsGivenSeparately() {
        #expect(throws: JID.Malformed.self) { try JID(localpart: "", domain: "example.com") }
        #expect(throws: JID.Malformed.self) { try JID(localpart: "a", domain: "") }
        #expect(throws: JID.Malformed.self) { try JID(localpart: "a", domain: "example.com", resource: "") }
    }

    // MARK: - Length limits (RFC 7622 §3: 1023 bytes per part)

    @Test func acceptsALocalpartOf1023BytesAndRejects1024() throws {
        let longest = String(repeating: "a", count: 1023)
        #expect(try JID("\(longest)@example.com").localpart == longest)
        #expect(throws: JID.Malformed.self) { try JID("\(longest)a@example.com") }
    }

    @Test func acceptsAResourceOf1023BytesAndRejects1024() throws {
        let longest = String(repeating: "r", count: 1023)
        #expect(try JID("example.com/\(longest)").resource == longest)
        #expect(throws: JID.Malformed.self) { try JID("example.com/\(longest)r") }
    }

    @Test func countsResourceLengthInUTF8Bytes() throws {
        // "é" is two bytes: 511 of them and one "a" make 1023 bytes, 512 make 1024.
        let fits = String(repeating: "é", count: 511) + "a"
        #expect(try JID("example.com/\(fits)").resource == fits)
        #expect(throws: JID.Malformed.self) { try JID("example.com/" + String(repeating: "é", count: 512)) }
    }

    @Test func acceptsADomainOf1023BytesAndRejects1024() throws {
        let label = String(repeating: "d", count: 63)
        // 16 labels of 63 and 15 dots: 1023 bytes.
        let longest = Array(repeating: label, count: 16).joined(separator: ".")
        #expect(longest.utf8.count == 1023)
        #expect(try JID(longest).domain == longest)
        // 15 labels of 63, one of 62 and one of 1, and 16 dots: 1024 bytes.
        let tooLong = (Array(repeating: label, count: 15) + [String(repeating: "d", count: 62), "d"]).joined(separator: ".")
        #expect(tooLong.utf8.count == 1024)
        #expect(throws: JID.Malformed.self) { try JID(tooLong) }
    }

    @Test func rejectsADomainLabelLongerThan63Bytes() throws {
        #expect(try JID(String(repeating: "x", count: 63) + ".com").domain.count == 67)
        #expect(throws: JID.Malformed.self) { try JID(String(repeating: "x", count: 64) + ".com") }
    }

    // MARK: - Localpart characters (RFC 7622 §3.3.1)

    @Test(arguments: ["\"", "&", "'", "/", ":", "<", ">", "@", " "])
    func rejectsForbiddenLocalpartCharacters(_ character: String) {
        #expect(throws: JID.Malformed.self) { try JID(localpart: "a\(character)b", domain: "example.com") }
        #expect(JID.normalizedLocalpart("a\(character)b") == nil)
    }

    @Test(arguments: ["\u{0}", "\u{1}", "\t", "\n", "\u{1F}", "\u{7F}"])
    func rejectsControlCharactersInLocalpart(_ character: String) {
        #expect(throws: JID.Malformed.self) { try JID(localpart: "a\(character)b", domain: "example.com") }
    }

    @Test(arguments: ["café", "ａlice", "ß", "\u{80}x", "日本"])
    func rejectsNonASCIILocalparts(_ localpart: String) {
        #expect(throws: JID.Malformed.self) { try JID("\(localpart)@example.com") }
    }

    @Test func acceptsOtherPrintableASCIIInLocalpart() throws {
        let local = "a.b-c_d+e!#$%()*,;=?[]^`{|}~"
        #expect(try JID("\(local)@example.com").localpart == local)
    }

    // MARK: - Domains

    @Test(arguments: ["exa_mple.com", "example com", "exämple.com", "example.com:5222", "ex!ample.com", "a@"])
    func rejectsDomainsOutsideLettersDigitsHyphenAndDot(_ domain: String) {
        #expect(JID.normalizedDomain(domain) == nil)
    }

    @Test func acceptsIPv4Domains() throws {
        #expect(try JID("alice@192.0.2.1/r").domain == "192.0.2.1")
    }

    @Test func acceptsIPv6LiteralDomainsAndLowercasesThem() throws {
        let jid = try JID("alice@[2001:DB8::1]/phone")
        #expect(jid.localpart == "alice")
        #expect(jid.domain == "[2001:db8::1]")
        #expect(jid.resource == "phone")
        #expect(try JID("[::1]").domain == "[::1]")
        #expect(try JID("[::ffff:192.0.2.1]").domain == "[::ffff:192.0.2.1]")
    }

    @Test(arguments: ["[::g]", "[::1", "::1]", "::1", "[fe80::1%eth0]", "[ ::1]"])
    func rejectsMalformedIPv6Literals(_ domain: String) {
        #expect(throws: JID.Malformed.self) { try JID(domain) }
    }

    /// RFC 7622 §3.2: the domainpart is an IP-literal, an IPv4 address or a registered
    /// name, never empty; "[]" names no address.
    @Test(arguments: ["[]", "alice@[]", "alice@[]/r"])
    func rejectsAnEmptyIPv6Literal(_ string: String) {
        #expect(throws: JID.Malformed.self) { try JID(string) }
    }

    // MARK: - Resources

    @Test(arguments: ["\u{0}", "\n", "\r", "\t", "\u{7F}", "\u{85}"])
    func rejectsControlCharactersInResource(_ character: String) {
        #expect(throws: JID.Malformed.self) { try JID("alice@example.com/a\(character)b") }
        #expect(!JID.isValidResource("a\(character)b"))
    }

    @Test func acceptsSpacesPunctuationAndUnicodeInResource() throws {
        let resource = "Café ☕ <laptop> & \"co\" @home/1"
        #expect(try JID("alice@example.com/\(resource)").resource == resource)
    }

    // MARK: - Derived JIDs

    @Test func bareDropsOnlyTheResource() throws {
        let full = try JID("alice@example.com/phone")
        #expect(full.bare == (try JID("alice@example.com")))
        #expect(full.bare.isBare)
        #expect(full.bare.bare == full.bare)
        #expect(try JID("example.com/r").bare == JID("example.com"))
    }

    @Test func withResourceMakesAFullJID() throws {
        let bare = try JID("alice@example.com")
        let full = try bare.with(resource: "Tablet")
        #expect(full == (try JID("alice@example.com/Tablet")))
        #expect(try full.with(resource: "phone") == JID("alice@example.com/phone"))
        #expect(try JID("example.com").with(resource: "x").description == "example.com/x")
    }

    @Test func withResourceRejectsAnInvalidResource() throws {
        let bare = try JID("alice@example.com")
        #expect(throws: JID.Malformed.self) { try bare.with(resource: "") }
        #expect(throws: JID.Malformed.self) { try bare.with(resource: "a\u{0}") }
        #expect(throws: JID.Malformed.self) { try bare.with(resource: String(repeating: "r", count: 1024)) }
    }

    // MARK: - Description

    @Test(arguments: [
        "alice@example.com", "alice@example.com/phone", "example.com", "example.com/r",
        "a@b/c@d/e", "alice@[2001:db8::1]/x", "bob@192.0.2.1", "x@y.z/Café ☕",
    ])
    func descriptionRoundTrips(_ string: String) throws {
        let jid = try JID(string)
        #expect(jid.description == string)
        #expect(try JID(jid.description) == jid)
    }

    @Test func descriptionIsTheNormalisedForm() throws {
        let jid = try JID("Alice@Example.COM./Phone")
        #expect(jid.description == "alice@example.com/Phone")
        #expect(try JID(jid.description) == jid)
    }
}
