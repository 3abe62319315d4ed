import NIOSSL
import Synchronization

/// The certificate and TLS context that new handshakes use. `reload` swaps both at once;
/// a stream already encrypted keeps the context it started with, so nothing is dropped.
final class TLSIdentity: Sendable {
    private let current: Mutex<(certificate: ServerCertificate, context: NIOSSLContext)>

    init(_ certificate: ServerCertificate) throws {
        current = Mutex((certificate, try Self.context(for: certificate)))
    }

    var certificate: ServerCertificate { current.withLock { $0.certificate } }
    var context: NIOSSLContext { current.withLock { $0.context } }

    /// Replaces the identity, or throws and keeps the old one (a missing file, a key that
    /// does not match the certificate).
    func reload(_ certificate: ServerCertificate) throws {
        let context = try Self.context(for: certificate)
        current.withLock { $0 = (certificate, context) }
    }

    private static func context(for certificate: ServerCertificate) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: certificate.chain.map { .certificate($0) }, privateKey: .privateKey(certificate.key))
        configuration.minimumTLSVersion = .tlsv12
        return try NIOSSLContext(configuration: configuration)
    }
}
