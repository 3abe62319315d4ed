@testable import CatroomCrypto
import Foundation
import Testing

/// Our own vectors, read from the JSON files of the xep appendices.
@Suite struct ProtocolVectorTests {
    static let writing = ProcessInfo.processInfo.environment["CATROOM_WRITE_VECTORS"] == "1"

    /// The inputs a vector file lists in `randomInputsInOrder`, by name.
    static func inputs(from json: [String: Any]) -> ProtocolVectors.Inputs {
        var table: [String: [UInt8]] = [:]
        for case let input as [String: String] in json["randomInputsInOrder"] as? [Any] ?? [] {
            table[input["name"] ?? ""] = [UInt8](hex: input["value"] ?? "")
        }
        return ProtocolVectors.Inputs(table: table)
    }

    static func check(_ file: String, build: (ProtocolVectors.Inputs) throws -> [String: Any]) throws {
        let url = repositoryRoot.appending(path: file)
        if writing {
            let generated = try build(ProtocolVectors.Inputs(table: nil))
            let data = try JSONSerialization.data(withJSONObject: generated, options: [.prettyPrinted, .sortedKeys])
            try (data + Data("\n".utf8)).write(to: url)
        }
        let committed = try loadJSON(file, inRepository: true)
        let rebuilt = try build(inputs(from: committed))
        #expect(NSDictionary(dictionary: rebuilt).isEqual(to: committed), "\(file) no longer matches the implementation")
    }

    @Test func savedSessionFixtureExists() throws {
        let url = vectorDirectory.appending(path: "session-record-v1.json")
        if Self.writing, !FileManager.default.fileExists(atPath: url.path) {
            let data = try JSONSerialization.data(withJSONObject: ProtocolVectors.sessionFixture(), options: [.prettyPrinted, .sortedKeys])
            try data.write(to: url)
        }
        #expect(FileManager.default.fileExists(atPath: url.path))
    }

    @Test func sessionVectorsMatchCR0001() throws {
        try Self.check("xep/CR-0001-vectors.json", build: ProtocolVectors.sessionVectors)
    }

    @Test func fanoutVectorsMatchCR0002() throws {
        try Self.check("xep/CR-0002-vectors.json", build: ProtocolVectors.fanoutVectors)
    }

    @Test func safetyCodeVectorsMatchCR0007() throws {
        try Self.check("xep/CR-0007-vectors.json", build: ProtocolVectors.safetyCodeVectors)
    }

    /// The documents' Appendix A shows every value of the JSON files (xep/tools/render_vectors.py writes it).
    @Test(arguments: [("xep/CR-0001-vectors.json", "xep/CR-0001-sessions.md"), ("xep/CR-0002-vectors.json", "xep/CR-0002-fanout.md"),
                     ("xep/CR-0007-vectors.json", "xep/CR-0007-safety-code.md")])
    func appendixShowsEveryVectorValue(json: String, document: String) throws {
        let text = try String(contentsOf: repositoryRoot.appending(path: document), encoding: .utf8)
        // Hex is wrapped at 64 characters in the document: compare without layout.
        let flat = text.split(whereSeparator: \.isWhitespace).joined()
        func strings(_ value: Any) -> [String] {
            switch value {
            case let string as String: return [string]
            case let dictionary as [String: Any]: return dictionary.values.flatMap(strings)
            case let array as [Any]: return array.flatMap(strings)
            default: return []
            }
        }
        let missing = try strings(loadJSON(json, inRepository: true))
            .filter { [UInt8](hex: $0) != nil && $0.count >= 32 && !flat.contains($0) }
        #expect(missing.isEmpty, "\(document) lacks \(missing.count) values, first \(missing.first?.prefix(16) ?? ""): run xep/tools/render_vectors.py")
    }
}
