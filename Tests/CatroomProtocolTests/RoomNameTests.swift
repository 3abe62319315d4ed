import CatroomProtocol
import Foundation
import Testing

/// Room names and addresses in their canonical form (CR-0005 §3.1).
struct RoomNameTests {
    struct Vector: Decodable, CustomTestStringConvertible {
        let name: String
        let domain: String
        let address: String?
        let error: String?
        let character: String?
        var testDescription: String { "\(name.debugDescription) on \(domain)" }
    }

    static let vectors: [Vector] = {
        struct File: Decodable { let rooms: [Vector] }
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appending(path: "xep/CR-0005-vectors.json")
        guard let data = try? Data(contentsOf: url), let file = try? JSONDecoder().decode(File.self, from: data) else { return [] }
        return file.rooms
    }()

    /// The outcome in the vector file's words: the address, or the error and its character.
    static func outcome(name: String, domain: String) -> String {
        guard let service = try? JID(localpart: nil, domain: "rooms." + domain) else { return "invalid-domain" }
        do {
            return try RoomName.address(name, service: service).description
        } catch {
            switch error {
            case .empty: return "empty"
            case .disallowed(let scalar): return "disallowed-character " + codePoint(scalar)
            case .startsWith(let scalar): return "bad-first-character " + codePoint(scalar)
            case .tooLong: return "too-long"
            }
        }
    }

    static func codePoint(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    @Test func theVectorFileHasTheCasesCR0005Promises() {
        let names = Set(Self.vectors.map(\.name))
        let required = ["Lobby", "my room", "a@b", "", "café"]
        #expect(Self.vectors.count >= 20)
        #expect(required.allSatisfy { names.contains($0) })
        #expect(Self.vectors.contains { $0.name.count == 64 && $0.address != nil })
        #expect(Self.vectors.contains { $0.name.count == 65 && $0.error == "too-long" })
    }

    @Test(arguments: vectors) func matchesCR0005AppendixA(_ vector: Vector) {
        let expected = vector.address ?? [vector.error, vector.character].compactMap { $0 }.joined(separator: " ")
        #expect(Self.outcome(name: vector.name, domain: vector.domain) == expected)
    }

    @Test func aCanonicalNameIsItsOwnCanonicalForm() throws {
        for vector in Self.vectors {
            guard let address = vector.address, let name = address.split(separator: "@").first.map(String.init) else { continue }
            #expect(try RoomName.canonical(name) == name)
        }
    }

    @Test func foldsOnlyASCIICase() throws {
        #expect(try RoomName.canonical("Team-A.Notes_2") == "team-a.notes_2")
        // U+0130 (İ) lowercases to "i" plus a combining dot in Unicode: refused, not mapped.
        #expect(throws: RoomName.Invalid.disallowed("\u{130}")) { try RoomName.canonical("L\u{130}bby") }
    }

    @Test func errorsSayWhatIsAllowedWithoutEchoingControlCharacters() {
        for (name, problem) in [("my room", "cannot contain a space"), ("", "cannot be empty"), ("a@b", "cannot contain '@'"),
                                ("-x", "cannot start with '-'"), ("bell\u{7}", "cannot contain U+0007"),
                                (String(repeating: "a", count: 65), "cannot have 65 characters")] {
            do {
                _ = try RoomName.canonical(name)
                Issue.record("\(name.debugDescription) was accepted")
            } catch {
                #expect(error.description.contains(problem))
                #expect(error.description.hasSuffix(RoomName.rule))
                #expect(!error.description.unicodeScalars.contains { $0.value < 0x20 })
            }
        }
    }

    @Test func theAddressIsTheCanonicalNameOnTheLowercaseService() throws {
        let service = try JID(localpart: nil, domain: "Rooms.Example.ORG.")
        let room = try RoomName.address("Lobby", service: service)
        #expect(room.description == "lobby@rooms.example.org")
        #expect(room == (try JID("lobby@rooms.example.org")))
    }
}
