import CatroomServer
import Foundation
import Logging

/// A real `catroom serve` in-process on loopback, on free ports, with a scratch data directory.
public enum TestServer {
    /// Starts a server; plaintext streams are allowed (loopback only) unless `requireTLS`.
    public static func start(
        domain: String = "localhost", requireTLS: Bool = false, plainRegistration: Bool = false,
        configure: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> Server {
        let directory = FileManager.default.temporaryDirectory.appending(path: "catroom-test-\(UUID().uuidString)")
        var configuration = ServerConfiguration(domain: domain, dataDirectory: directory.path)
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.directTLSPort = 0
        configuration.allowPlaintext = !requireTLS
        configuration.allowPlainRegistration = plainRegistration
        configure(&configuration)
        var logger = Logger(label: "catroom.test")
        logger.logLevel = ProcessInfo.processInfo.environment["CATROOM_TEST_LOG"] == nil ? .critical : .debug
        return try await Server.start(configuration: configuration, logger: logger, threads: 1)
    }
}
