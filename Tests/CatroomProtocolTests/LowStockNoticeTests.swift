import CatroomProtocol
import CatroomXML
import Testing

/// The `<low-stock/>` notice (CR-0004 §5.4): only a plain `remaining` below the threshold counts.
@Suite struct LowStockNoticeTests {
    func notice(_ attributes: String, namespace: String = Namespace.bundles) throws -> LowStockNotice? {
        LowStockNotice(try parse("<low-stock xmlns='\(namespace)' \(attributes)/>"))
    }

    @Test func refillIsWhatFitsBesideTheRemainingStock() throws {
        #expect(try notice("remaining='9'") == LowStockNotice(remaining: 9))
        #expect(try notice("remaining='9'")?.refill == 91)
        #expect(try notice("remaining='0'")?.refill == BundleElement.capacity)
    }

    @Test func missingMalformedOrAbsurdRemainingIsRefused() throws {
        for attributes in ["", "remaining=''", "remaining='x'", "remaining='-1'", "remaining='+5'", "remaining=' 9'",
                           "remaining='9.0'", "remaining='10'", "remaining='100'", "remaining='4294967296'", "other='9'"] {
            #expect(try notice(attributes) == nil, "\(attributes)")
        }
        #expect(try notice("remaining='9'", namespace: "urn:catroom:bundles:1") == nil)
    }

    @Test func roundTrips() throws {
        let element = LowStockNotice(remaining: 3).element
        #expect(LowStockNotice(try parse(element.serializedString(inheritedNamespace: Namespace.client))) == LowStockNotice(remaining: 3))
    }
}
