import Crypto
import SwiftASN1
import X509

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The TLS identity of the front's SASL_SSL listeners, in PEM: a server certificate and its
/// key, and the CA clients verify it with.
package struct FrontTLSIdentity: Sendable {
    /// The server certificate (and any chain after it), PEM.
    package let certificateChainPEM: String
    /// The server certificate's private key, PEM.
    package let privateKeyPEM: String
    /// The CA that signed the server certificate, PEM: what clients put in `ssl.ca.location`.
    package let caPEM: String

    package init(certificateChainPEM: String, privateKeyPEM: String, caPEM: String) {
        self.certificateChainPEM = certificateChainPEM
        self.privateKeyPEM = privateKeyPEM
        self.caPEM = caPEM
    }

    /// A new CA and a server certificate it signed, both ECDSA P-256, valid for a year from
    /// an hour ago, with `127.0.0.1`, `localhost` and `extraHosts` as subject alternative
    /// names (IPv4 addresses as IP names, anything else as DNS names).
    package static func generate(hosts extraHosts: [String] = []) throws -> FrontTLSIdentity {
        try issue(hosts: extraHosts, by: FrontCA.generate())
    }

    /// A server certificate for `127.0.0.1`, `localhost` and `extraHosts`, signed by `ca`.
    package static func issue(hosts extraHosts: [String] = [], by ca: FrontCA) throws -> FrontTLSIdentity {
        let caCertificate = try Certificate(pemEncoded: ca.certificatePEM)
        let caKey = try P256.Signing.PrivateKey(pemRepresentation: ca.privateKeyPEM)
        let serverKey = P256.Signing.PrivateKey()
        let notBefore = Date().addingTimeInterval(-3600)
        let notAfter = min(notBefore.addingTimeInterval(366 * 86_400), caCertificate.notValidAfter)
        var names: [GeneralName] = []
        for host in ["127.0.0.1", "localhost"] + extraHosts where !host.isEmpty {
            let name =
                ipv4Bytes(host).map { GeneralName.ipAddress(ASN1OctetString(contentBytes: $0[...])) }
                ?? .dnsName(host)
            if !names.contains(name) { names.append(name) }
        }
        let server = try Certificate(
            version: .v3,
            serialNumber: .init(),
            publicKey: .init(serverKey.publicKey),
            notValidBefore: notBefore,
            notValidAfter: notAfter,
            issuer: caCertificate.subject,
            subject: try DistinguishedName {
                OrganizationName("port-emulator")
                CommonName("localhost")
            },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: .init(caKey)
        )
        return FrontTLSIdentity(
            certificateChainPEM: try server.serializeAsPEM().pemString,
            privateKeyPEM: serverKey.pemRepresentation,
            caPEM: ca.certificatePEM
        )
    }

    private static func ipv4Bytes(_ host: String) -> [UInt8]? {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        let bytes = parts.compactMap { UInt8($0) }
        return bytes.count == 4 ? bytes : nil
    }
}

/// A certificate authority for the SASL_SSL listeners' certificates: its certificate and
/// private key, in PEM.
package struct FrontCA: Sendable {
    /// The CA's certificate: what clients trust.
    package let certificatePEM: String
    /// The CA's private key, which signs server certificates.
    package let privateKeyPEM: String

    /// A CA from its PEM texts.
    package init(certificatePEM: String, privateKeyPEM: String) {
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
    }

    /// A new CA, ECDSA P-256, valid from an hour ago for `days` days, named
    /// "port-emulator Kafka CA" plus `label` when given (so that two CAs are told apart in a
    /// system store).
    package static func generate(days: Int = 366, label: String? = nil) throws -> FrontCA {
        let key = P256.Signing.PrivateKey()
        let notBefore = Date().addingTimeInterval(-3600)
        let name = try DistinguishedName {
            OrganizationName("port-emulator")
            CommonName(label.map { "port-emulator Kafka CA (\($0))" } ?? "port-emulator Kafka CA")
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: .init(),
            publicKey: .init(key.publicKey),
            notValidBefore: notBefore,
            notValidAfter: notBefore.addingTimeInterval(Double(days) * 86_400),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(key)
        )
        return FrontCA(certificatePEM: try certificate.serializeAsPEM().pemString, privateKeyPEM: key.pemRepresentation)
    }
}
