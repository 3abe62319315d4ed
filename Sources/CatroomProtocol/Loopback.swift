/// Whether `host` names this machine: `localhost`, `::1` or a dotted IPv4 address in
/// 127.0.0.0/8. Not a name that merely starts with "127.", which could resolve anywhere.
/// Plaintext, unchecked TLS and the wire tap are allowed only for such hosts.
public func isLoopbackHost(_ host: String) -> Bool {
    if host == "localhost" || host == "::1" { return true }
    let parts = host.split(separator: ".", omittingEmptySubsequences: false)
    return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
}
