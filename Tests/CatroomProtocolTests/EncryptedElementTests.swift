import CatroomProtocol
import CatroomXML
import Testing

/// Fan-out messages on the wire (CR-0005 §6) and the server's per-recipient copy.
struct EncryptedElementTests {
    static let message = EncryptedElement(
        messageID: counting(16), commitment: counting(32, from: 0x40),
        recipients: ["alice", "bob", "carol"],
        keys: ["alice": counting(58, from: 1), "bob": counting(60, from: 2), "carol": counting(61, from: 3)],
        payload: counting(40, from: 0x90))

    static let ns = Namespace.encrypted

    /// The message as the sender writes it, with children the server does not know.
    static func withUnknownChildren() throws -> XML.Element {
        let m = message
        return try parse("""
            <encrypted xmlns='urn:catroom:e2e:0' id='\(m.messageID.base64)' commitment='\(m.commitment.base64)'>\
            <recipient id='alice'/><recipient id='bob'/><recipient id='carol'/>\
            <hint xmlns='urn:example:hint'>first</hint>\
            <key recipient='alice'>\(m.keys["alice"]!.base64)</key>\
            <key recipient='bob'>\(m.keys["bob"]!.base64)</key>\
            <key xmlns='urn:example:other' recipient='alice'>kept</key>\
            <key recipient='carol'>\(m.keys["carol"]!.base64)</key>\
            <payload>\(m.payload.base64)</payload>\
            <trailer/>\
            </encrypted>
            """)
    }

    /// A summary of each child for comparing orders: name, namespace and recipient or id.
    static func outline(_ element: XML.Element) -> [String] {
        element.childElements.map { child in
            "\(child.name)|\(child.namespace)|\(child.attribute("recipient") ?? child.attribute("id") ?? "")"
        }
    }

    // MARK: - Round trip

    @Test func roundTripsThroughXML() throws {
        let message = Self.message
        #expect(EncryptedElement(message.element) == message)
        #expect(EncryptedElement(try parse(message.element.serializedString())) == message)
    }

    @Test func serialisesRecipientsThenKeysThenPayload() {
        let m = Self.message
        #expect(m.element.serializedString() ==
            "<encrypted xmlns='urn:catroom:e2e:0' id='\(m.messageID.base64)' commitment='\(m.commitment.base64)'>"
            + "<recipient id='alice'/><recipient id='bob'/><recipient id='carol'/>"
            + "<key recipient='alice'>\(m.keys["alice"]!.base64)</key>"
            + "<key recipient='bob'>\(m.keys["bob"]!.base64)</key>"
            + "<key recipient='carol'>\(m.keys["carol"]!.base64)</key>"
            + "<payload>\(m.payload.base64)</payload>"
            + "</encrypted>")
    }

    @Test func roundTripsARecipientsOwnCopy() throws {
        var copy = Self.message
        copy.keys = ["bob": Self.message.keys["bob"]!]
        #expect(EncryptedElement(copy.element) == copy)
        #expect(EncryptedElement(EncryptedElement.copy(of: Self.message.element, for: "bob")) == copy)
    }

    @Test func readsUnknownChildrenWithoutComplaint() throws {
        let parsed = try #require(EncryptedElement(try Self.withUnknownChildren()))
        #expect(parsed == Self.message)
    }

    // MARK: - copy(of:for:)

    @Test func copyKeepsOnlyTheAddresseesKey() throws {
        let copy = EncryptedElement.copy(of: Self.message.element, for: "bob")
        let keys = copy.children(name: "key", namespace: Self.ns)
        #expect(keys.map { $0.attribute("recipient") } == ["bob"])
        #expect(keys.first?.text == Self.message.keys["bob"]!.base64)
    }

    @Test func copyKeepsRecipientsPayloadAndUnknownChildrenInOrder() throws {
        let original = try Self.withUnknownChildren()
        let copy = EncryptedElement.copy(of: original, for: "bob")
        #expect(Self.outline(copy) == [
            "recipient|urn:catroom:e2e:0|alice", "recipient|urn:catroom:e2e:0|bob", "recipient|urn:catroom:e2e:0|carol",
            "hint|urn:example:hint|",
            "key|urn:catroom:e2e:0|bob",
            "key|urn:example:other|alice",  // not a CR-0005 key: the server leaves it alone
            "payload|urn:catroom:e2e:0|",
            "trailer|urn:catroom:e2e:0|",
        ])
        #expect(copy.name == original.name)
        #expect(copy.namespace == original.namespace)
        #expect(copy.attributes == original.attributes)
        #expect(copy.firstChild(name: "payload", namespace: Self.ns) == original.firstChild(name: "payload", namespace: Self.ns))
        #expect(copy.firstChild(name: "hint", namespace: "urn:example:hint")?.text == "first")
    }

    @Test func copyForSomeoneWithoutAKeyHasNoKey() throws {
        let copy = EncryptedElement.copy(of: Self.message.element, for: "mallory")
        #expect(copy.children(name: "key", namespace: Self.ns).isEmpty)
        #expect(copy.children(name: "recipient", namespace: Self.ns).count == 3)
        let parsed = try #require(EncryptedElement(copy))
        #expect(parsed.keys.isEmpty)
        #expect(parsed.payload == Self.message.payload)
    }

    @Test func copyMatchesRecipientIDsExactly() {
        let copy = EncryptedElement.copy(of: Self.message.element, for: "Bob")
        #expect(copy.children(name: "key", namespace: Self.ns).isEmpty)
    }

    @Test func copiesForEveryRecipientTogetherHoldEveryKeyOnce() throws {
        var seen: [String: [UInt8]] = [:]
        for recipient in Self.message.recipients {
            let copy = try #require(EncryptedElement(EncryptedElement.copy(of: Self.message.element, for: recipient)))
            #expect(copy.keys.count == 1)
            seen.merge(copy.keys) { first, _ in first }
        }
        #expect(seen == Self.message.keys)
    }

    @Test func copyKeepsTextNodes() throws {
        let element = try parse("<encrypted xmlns='urn:catroom:e2e:0' id='AA==' commitment='AA=='> <key recipient='a'>AA==</key> <payload/> </encrypted>")
        let copy = EncryptedElement.copy(of: element, for: "b")
        #expect(copy.children.compactMap(\.text) == [" ", " ", " "])
        #expect(copy.childElements.map(\.name) == ["payload"])
    }

    // MARK: - Malformed input

    @Test(arguments: [
        // missing id, commitment or payload
        "<encrypted xmlns='urn:catroom:e2e:0' commitment='AAAA'><payload>AAAA</payload></encrypted>",
        "<encrypted xmlns='urn:catroom:e2e:0' id='AAAA'><payload>AAAA</payload></encrypted>",
        "<encrypted xmlns='urn:catroom:e2e:0' id='AAAA' commitment='AAAA'><recipient id='a'/></encrypted>",
        "<encrypted xmlns='urn:catroom:e2e:0' id='AAAA' commitment='AAAA'><payload xmlns='urn:other'>AAAA</payload></encrypted>",
        // bad base64
        "<encrypted xmlns='urn:catroom:e2e:0' id='AA' commitment='AAAA'><payload>AAAA</payload></encrypted>",
        "<encrypted xmlns='urn:catroom:e2e:0' id='AAAA' commitment='A!AA'><payload>AAAA</payload></encrypted>",
        "<encrypted xmlns='urn:catroom:e2e:0' id='AAAA' commitment='AAAA'><payload>AAA</payload></encrypted>",
        "<encrypted xmlns='urn:catroom:e2e:0' id='AAAA' commitment='AAAA'><payload>AA AA</payload></encrypted>",
        "<encrypted xmlns='urn:catroom:e2e:0' id='AAAA' commitment='AAAA'><key recipient='a'>*</key><payload>AAAA</payload></encrypted>",
        // a key without recipient, two keys for one recipient
        "<encrypted xmlns='urn:catroom:e2e:0' id='AAAA' commitment='AAAA'><key>AAAA</key><payload>AAAA</payload></encrypted>",
        "<encrypted xmlns='urn:catroom:e2e:0' id='AAAA' commitment='AAAA'><recipient id='a'/><key recipient='a'>AAAA</key><key recipient='a'>AAAA</key><payload>AAAA</payload></encrypted>",
        "<encrypted xmlns='urn:catroom:e2e:0' id='AAAA' commitment='AAAA'><key recipient='a'>AAAA</key><key recipient='a'>BBBB</key><payload>AAAA</payload></encrypted>",
        // not the element
        "<encrypted xmlns='urn:catroom:e2e:1' id='AAAA' commitment='AAAA'><payload>AAAA</payload></encrypted>",
        "<encrypt xmlns='urn:catroom:e2e:0' id='AAAA' commitment='AAAA'><payload>AAAA</payload></encrypt>",
    ])
    func rejectsMalformedInput(_ xml: String) throws {
        #expect(EncryptedElement(try parse(xml)) == nil)
    }

    @Test func readsAMinimalElement() throws {
        let id = [UInt8](repeating: 1, count: 16), commitment = [UInt8](repeating: 3, count: 32)
        let parsed = try #require(EncryptedElement(try parse(
            "<encrypted xmlns='urn:catroom:e2e:0' id='\(id.base64)' commitment='\(commitment.base64)'><recipient id='a'/><key recipient='a'>Bg==</key><payload>Bwg=</payload></encrypted>")))
        #expect(parsed.messageID == id)
        #expect(parsed.commitment == commitment)
        #expect(parsed.recipients == ["a"])
        #expect(parsed.keys == ["a": [6]])
        #expect(parsed.payload == [7, 8])
    }

    @Test(arguments: [(15, 32), (17, 32), (16, 31), (16, 33)])
    func refusesIDsAndCommitmentsOfTheWrongLength(idCount: Int, commitmentCount: Int) throws {
        let id = [UInt8](repeating: 1, count: idCount), commitment = [UInt8](repeating: 3, count: commitmentCount)
        #expect(EncryptedElement(try parse(
            "<encrypted xmlns='urn:catroom:e2e:0' id='\(id.base64)' commitment='\(commitment.base64)'><recipient id='a'/><payload>Bwg=</payload></encrypted>")) == nil)
    }

    @Test func refusesAKeyForSomeoneWhoIsNotARecipient() throws {
        let id = [UInt8](repeating: 1, count: 16).base64, commitment = [UInt8](repeating: 3, count: 32).base64
        #expect(EncryptedElement(try parse(
            "<encrypted xmlns='urn:catroom:e2e:0' id='\(id)' commitment='\(commitment)'><recipient id='a'/><key recipient='b'>Bg==</key><payload>Bwg=</payload></encrypted>")) == nil)
    }
}
