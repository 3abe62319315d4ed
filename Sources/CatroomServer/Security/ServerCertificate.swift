import CatroomProtocol
import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// The server's TLS identity: the operator's certificate and key, or a self-signed
/// pair generated on first start in the data directory, and its SHA-256 fingerprint
/// for clients to pin (SSH known_hosts style).
struct ServerCertificate {
    let chain: [NIOSSLCertificate]
    let key: NIOSSLPrivateKey
    /// SHA-256 of the leaf certificate's DER encoding, as uppercase hex pairs joined by colons.
    let fingerprint: String
    let generated: Bool

    static let certificateFile = "certificate.pem"
    static let keyFile = "key.pem"

    /// Loads the operator's files, or the generated pair in `dataDirectory`, generating it if
    /// absent and `generating`.
    static func load(configuration: ServerConfiguration, generating: Bool = true) throws -> ServerCertificate {
        if let certificatePath = configuration.certificatePath, let keyPath = configuration.keyPath {
            return try load(certificate: certificatePath, key: keyPath, generated: false)
        }
        let directory = URL(fileURLWithPath: configuration.dataDirectory)
        let certificatePath = directory.appending(path: certificateFile).path
        let keyPath = directory.appending(path: keyFile).path
        var generated = false
        if generating, !FileManager.default.fileExists(atPath: certificatePath) || !FileManager.default.fileExists(atPath: keyPath) {
            try generate(domain: configuration.domain, certificate: certificatePath, key: keyPath, directory: directory)
            generated = true
        }
        return try load(certificate: certificatePath, key: keyPath, generated: generated)
    }

    private static func load(certificate: String, key: String, generated: Bool) throws -> ServerCertificate {
        let chain = try NIOSSLCertificate.fromPEMFile(certificate)
        guard let leaf = chain.first else { throw CertificateError.empty(certificate) }
        let der = try leaf.toDERBytes()
        return ServerCertificate(
            chain: chain, key: try NIOSSLPrivateKey(file: key, format: .pem),
            fingerprint: certificateFingerprint(ofDER: der), generated: generated)
    }

    /// A self-signed P-256 certificate for `domain` and `rooms.<domain>`, valid ten years;
    /// the key file is readable by its owner only.
    private static func generate(domain: String, certificate: String, key: String, directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let privateKey = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName(domain) }
        let now = Date()
        let certificateValue = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(privateKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(10 * 365 * 86400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([.dnsName(domain), .dnsName("rooms.\(domain)")])
            },
            issuerPrivateKey: .init(privateKey))
        guard FileManager.default.createFile(atPath: key, contents: Data(privateKey.pemRepresentation.utf8), attributes: [.posixPermissions: 0o600])
        else { throw CertificateError.unwritable(key) }
        try Data(certificateValue.serializeAsPEM().pemString.utf8).write(to: URL(fileURLWithPath: certificate))
    }

    enum CertificateError: Error, CustomStringConvertible {
        case empty(String)
        case unwritable(String)
        var description: String {
            switch self {
            case .empty(let path): "no certificate in \(path)"
            case .unwritable(let path): "cannot write \(path)"
            }
        }
    }
}
