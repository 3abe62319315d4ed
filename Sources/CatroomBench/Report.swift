import Foundation

extension CryptoBenchmark {
    /// A fixed-width table for people.
    public static func table(_ rows: [Row]) -> String {
        func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s : s + String(repeating: " ", count: width - s.count) }
        func lpad(_ s: String, _ width: Int) -> String { s.count >= width ? s : String(repeating: " ", count: width - s.count) + s }
        func number(_ value: Double) -> String { String(format: value < 100 ? "%.2f" : "%.0f", value) }
        var lines = [
            pad("operation", 34) + lpad("catroom µs", 12) + lpad("floor µs", 11) + lpad("ratio", 8) + "  target",
            String(repeating: "-", count: 90),
        ]
        for row in rows {
            let verdict = row.target.map { t in "\(t) \(row.met == true ? "met" : "MISSED")" } ?? ""
            lines.append(
                pad(row.operation, 34) + lpad(number(row.catroomMicroseconds), 12) + lpad(number(row.floorMicroseconds), 11)
                    + lpad(String(format: "%.2fx", row.ratio), 8) + "  " + verdict)
        }
        lines.append("")
        lines.append("Floors (libsodium calls on preallocated buffers, same run):")
        for row in rows { lines.append("  \(row.operation): \(row.floor)") }
        return lines.joined(separator: "\n")
    }

    /// One JSON document with every row and its ratio.
    public static func json(_ rows: [Row]) throws -> String {
        try prettyJSON(rows)
    }
}
