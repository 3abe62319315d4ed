import CatroomCrypto
import CatroomProtocol
import CatroomXML
import Testing

/// A client's stream header; stanzas parsed after it are in `jabber:client`.
let streamHeader = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>"

func utf8(_ string: String) -> [UInt8] { Array(string.utf8) }

/// Parses one top-level element written as it would arrive on a client stream.
func parse(_ xml: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> XML.Element {
    let parser = XML.StreamParser()
    let events = try parser.feed(utf8(streamHeader + xml))
    let elements = events.compactMap { event -> XML.Element? in
        if case .element(let element) = event { element } else { nil }
    }
    return try #require(elements.count == 1 ? elements.first : nil, "expected one element from \(xml)", sourceLocation: sourceLocation)
}

/// A deterministic identity key pair: the seed is `byte` repeated.
func identity(_ byte: UInt8) -> IdentityKeyPair {
    try! IdentityKeyPair(seed: SecretBytes(copying: [UInt8](repeating: byte, count: IdentityKeyPair.seedCount)))
}

/// A deterministic X25519 key pair: the private scalar is `byte` repeated.
func agreementKeyPair(_ byte: UInt8) -> X25519.KeyPair {
    X25519.KeyPair(privateKey: try! X25519.PrivateKey(secret: SecretBytes(copying: [UInt8](repeating: byte, count: X25519.keyCount))))
}

/// `count` bytes counting up from `start`, for readable fixed inputs.
func counting(_ count: Int, from start: UInt8 = 0) -> [UInt8] {
    (0..<count).map { start &+ UInt8(truncatingIfNeeded: $0) }
}
