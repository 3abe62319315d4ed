@testable import CatroomCrypto
import Foundation
import Testing

/// Our own vectors, read from the JSON files of the xep appendices.
@Suite struct ProtocolVectorTests {
    static let writing = ProcessInfo.processInfo.environment["CATROOM_WRITE_VECTORS"] == "1"

    /// Every hex string in a vector file whose key names an input, by that name.
    static func inputs(from json: [String: Any]) -> ProtocolVectors.Inputs {
        var table: [String: [UInt8]] = [:]
        if let parties = json["parties"] as? [String: Any] {
            for (key, value) in parties where key.hasSuffix("Seed") || key.hasSuffix("PreKeyPrivate") {
                table[key] = [UInt8](hex: value as? String ?? "")
            }
        }
        if let x3dh = json["x3dh"] as? [String: Any] {
            table["alice.ephemeralPrivate"] = [UInt8](hex: x3dh["aliceEphemeralPrivate"] as? String ?? "")
        }
        // The k-th DH step of the conversation used "<actor>.ratchetPrivate<k>".
        let dhSteps = (json["conversation"] as? [[String: Any]] ?? []).compactMap { step -> (String, String)? in
            guard let dh = step["dhStep"] as? [String: Any], let key = dh["ratchetPrivate"] as? String else { return nil }
            return (step["actor"] as? String ?? "", key)
        }
        for (k, (actor, key)) in dhSteps.enumerated() {
            table["\(actor).ratchetPrivate\(k)"] = [UInt8](hex: key)
        }
        for case let session as [String: Any] in json["sessions"] as? [Any] ?? [] {
            table["alice.ephemeralPrivate.\(session["peer"] as! String)"] = [UInt8](hex: session["aliceEphemeralPrivate"] as! String)
        }
        for case let entry as [String: String] in json["ratchetPrivateKeys"] as? [Any] ?? [] {
            table["alice.ratchetPrivate.\(entry["peer"]!)"] = [UInt8](hex: entry["private"]!)
        }
        if let key = json["payloadKey"] as? String { table["payloadKey"] = [UInt8](hex: key) }
        if let id = json["messageID"] as? String { table["messageID"] = [UInt8](hex: id) }
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

    /// The documents' Appendix A shows every value of the JSON files (xep/tools/render_vectors.py writes it).
    @Test(arguments: [("xep/CR-0001-vectors.json", "xep/CR-0001-sessions.md"), ("xep/CR-0002-vectors.json", "xep/CR-0002-fanout.md")])
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
        for value in try strings(loadJSON(json, inRepository: true)) where [UInt8](hex: value) != nil && value.count >= 32 {
            #expect(flat.contains(value), "\(document) does not show \(value.prefix(16))...")
        }
    }
}
