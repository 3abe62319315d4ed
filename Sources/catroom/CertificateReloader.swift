import CatroomServer
import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the server's certificate and key on each SIGHUP (`systemctl reload`), until shutdown.
struct CertificateReloader: Service {
    let server: Server
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            do {
                try server.reloadCertificate()
                logger.info("SIGHUP: certificate reloaded, SHA-256 \(server.certificateFingerprint)")
            } catch {
                logger.error("SIGHUP: certificate not reloaded, keeping SHA-256 \(server.certificateFingerprint): \(error)")
            }
        }
    }
}
