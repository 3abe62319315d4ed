@testable import CatroomBench
import Foundation
import Testing

/// The crypto report's JSON keys, ratio included, stay what scripts reading it expect.
@Suite struct ReportJSONTests {
    @Test func cryptoRowCarriesItsRatio() throws {
        let rows = [
            CryptoBenchmark.Row(operation: "op", catroomMicroseconds: 3, floorMicroseconds: 2, floor: "f", target: "t", met: true),
            CryptoBenchmark.Row(operation: "op2", catroomMicroseconds: 1, floorMicroseconds: 4, floor: "f", target: nil, met: nil),
        ]
        let json = try JSONSerialization.jsonObject(with: Data(CryptoBenchmark.json(rows).utf8)) as? [[String: Any]]
        #expect(json?.count == 2)
        #expect(json.map { Set($0[0].keys) } == ["operation", "catroomMicroseconds", "floorMicroseconds", "ratio", "floor", "target", "met"])
        #expect(json?[0]["ratio"] as? Double == 1.5)
        // Absent targets are left out, not written as null.
        #expect(json.map { Set($0[1].keys) } == ["operation", "catroomMicroseconds", "floorMicroseconds", "ratio", "floor"])
        #expect(json?[1]["ratio"] as? Double == 0.25)
    }
}
