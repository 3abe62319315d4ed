import CatroomBench
import Foundation
import Testing

/// The benchmark runs and reports every operation (numbers are not judged here: timing belongs to `make bench`).
@Suite struct CryptoBenchmarkTests {
    @Test func quickRunReportsEveryOperationWithItsFloor() throws {
        let rows = try CryptoBenchmark(quick: true).run()
        #expect(rows.count == 12 + 5 * 3)
        for row in rows {
            #expect(row.catroomMicroseconds > 0 && row.floorMicroseconds > 0, "\(row.operation)")
            #expect(!row.floor.isEmpty)
        }
        let json = try JSONSerialization.jsonObject(with: Data(CryptoBenchmark.json(rows).utf8)) as? [[String: Any]]
        #expect(json?.count == rows.count)
        #expect(CryptoBenchmark.table(rows).contains("fan-out seal, 200 recipients"))
    }
}
