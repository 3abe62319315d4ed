import CatroomBench
import Foundation
import Testing

/// `catroom bench parser` runs and reports every figure (its values are for people, not assertions).
@Suite struct ParserBenchmarkTests {
    @Test func quickRunReportsTimesAndMemoryForBothStates() throws {
        let report = try ParserBenchmark(quick: true).run()
        #expect(report.stanzaBytes > 600 && report.streams == 1000)
        #expect(report.awakeMicroseconds > 0 && report.wakingMicroseconds > 0)
        let json = try JSONSerialization.jsonObject(with: Data(ParserBenchmark.json(report).utf8)) as? [String: Any]
        #expect(json?["hibernatingKiBPerStream"] != nil && json?["awakeKiBPerStream"] != nil)
        #expect(ParserBenchmark.table(report).contains("resident KiB per stream (1000)"))
    }
}
