import CatroomCrypto

/// A TLS certificate's SHA-256 fingerprint in the one form `catroom serve` prints and
/// `catroom join --pin` and `known_hosts` compare: uppercase hex pairs joined by colons.
public func certificateFingerprint(ofDER der: [UInt8]) -> String {
    SHA256.hash(der).map { [$0].hexString.uppercased() }.joined(separator: ":")
}
