import CatroomXML
import Testing

/// SECURITY-CASES XS-14.
@Suite struct ExpatInfoTests {
    @Test func reportsTheLinkedExpatAndItsProtections() {
        let info = XML.ExpatInfo.current
        #expect(info.version.hasPrefix("expat_2."))
        #expect(info.features.contains { $0.name == "XML_NS" })
        // Debian 12's libexpat1 2.5.0-1+deb12u5, which this project requires.
        #expect(info.hasBillionLaughsProtection)
        #expect(info.hasAllocationTracker)
        #expect(info.hasReparseDeferralSwitch)
        #expect(info.meetsRequirements)
    }

    @Test func requiresBothProtections() {
        var info = XML.ExpatInfo.current
        info.features.removeAll { $0.name.hasPrefix("XML_AT_") }
        #expect(!info.meetsRequirements)
    }
}
