import CatroomProtocol
import Testing

/// Only names of this machine count as loopback, not names that look like one.
@Suite struct LoopbackTests {
    @Test(arguments: ["localhost", "::1", "127.0.0.1", "127.1.2.3", "127.255.255.255"])
    func loopback(_ host: String) { #expect(isLoopbackHost(host)) }

    @Test(arguments: ["127.evil.example", "127.0.0.1.example", "127.0.0", "127.0.0.256", "128.0.0.1", "10.0.0.1", "example.com", "", "::2"])
    func notLoopback(_ host: String) { #expect(!isLoopbackHost(host)) }
}
