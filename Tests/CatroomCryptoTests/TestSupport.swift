import CatroomCrypto
import Foundation
import Testing

/// Reads a JSON vector file from `Tests/CatroomCryptoTests/Vectors` or, with `inRepository`, from the repository root.
func loadJSON(_ name: String, inRepository: Bool = false) throws -> [String: Any] {
    let url = inRepository ? repositoryRoot.appending(path: name) : vectorDirectory.appending(path: name)
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
    return try #require(object as? [String: Any])
}

let vectorDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "Vectors")
let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func hex(_ string: Any?) -> [UInt8] {
    guard let string = string as? String, let bytes = [UInt8](hex: string) else {
        Issue.record("not a hex string: \(String(describing: string))")
        return []
    }
    return bytes
}

/// Hands out pre-scripted random bytes, so every key a test makes is known; traps when a
/// request does not match the next scripted value's length, since the test is then wrong.
struct ScriptedEntropy: EntropySource {
    private var values: [[UInt8]]
    init(_ values: [[UInt8]]) { self.values = values }

    var isExhausted: Bool { values.isEmpty }

    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        precondition(!values.isEmpty, "scripted entropy exhausted")
        let next = values.removeFirst()
        precondition(next.count == buffer.count, "scripted entropy: asked for \(buffer.count) bytes, have \(next.count)")
        buffer.copyBytes(from: next)
    }
}

/// Entropy derived from labels: value i is SHA-256(label || i) cut to length,
/// recorded so that the vectors can list every random input in order.
struct RecordingEntropy: EntropySource {
    let label: String
    private(set) var consumed: [[UInt8]] = []

    init(label: String) { self.label = label }

    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        let value = Array(SHA256.hash(Array("\(label) \(consumed.count)".utf8)).prefix(buffer.count))
        precondition(value.count == buffer.count)
        buffer.copyBytes(from: value)
        consumed.append(value)
    }
}

/// SplitMix64: a tiny seeded generator for reproducible randomised schedules.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// A member with its own session store, as a client would hold it.
struct Member {
    var store: SessionStore
    var id: String { store.accountID }
    var identity: IdentityKey { store.identity.publicKey }

    init(oneTimePreKeys: Int = 5) {
        var preKeys = PreKeyStore(identity: .generate())
        _ = preKeys.generateOneTimePreKeys(count: oneTimePreKeys)
        store = SessionStore(preKeys: preKeys)
    }

    /// A bundle as the server would hand it out: with the lowest-numbered one-time prekey, if any is left.
    func bundle(withOneTimePreKey: Bool = true) -> PreKeyBundle {
        let ids = (1...UInt32(64)).filter { store.preKeys.bundle(oneTimePreKeyID: $0).oneTimePreKey != nil }
        return store.preKeys.bundle(oneTimePreKeyID: withOneTimePreKey ? ids.first : nil)
    }
}

/// Sets up a session from `alice` to `bob` and has bob answer once, so both sides can send freely.
func establish(_ alice: inout Member, _ bob: inout Member) throws {
    try alice.store.initiateSession(with: bob.bundle(), peer: bob.id)
    let hello = try alice.store.encrypt(Array("hello".utf8), to: bob.id)
    _ = try bob.store.decrypt(hello, from: alice.id)
    let reply = try bob.store.encrypt(Array("welcome".utf8), to: alice.id)
    _ = try alice.store.decrypt(reply, from: bob.id)
}

extension SecretBytes {
    var string: String { String(decoding: unprotectedBytes, as: UTF8.self) }
}
