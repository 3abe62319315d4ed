import CatroomProtocol
import CatroomTesting
import CatroomXML
import Testing

extension XML.Element {
    /// The defined condition of a stanza or stream error inside this element, if any.
    var errorCondition: String? {
        let error = name == "error" ? self : firstChild(name: "error", namespace: Namespace.client)
        return error?.childElements.first { $0.namespace == Namespace.stanzaErrors || $0.namespace == Namespace.streamErrors }?.name
    }
}

/// A fresh stream on `server`, possibly from another loopback address.
func connect(_ port: Int, from address: String? = nil, tls: Bool = false) async throws -> TestClient {
    let client = try await TestClient.connect(port: port, from: address)
    try await client.openStream()
    if tls {
        try await client.startTLS()
        try await client.openStream()
    }
    return client
}

/// Polls `condition` for up to five seconds.
func waitUntil(_ condition: () -> Bool) async throws {
    for _ in 0..<500 {
        if condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("condition not met within 5 s")
}
