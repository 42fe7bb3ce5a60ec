import Crypto
import Foundation
import SwiftASN1
import X509

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
        let caKey = P256.Signing.PrivateKey()
        let serverKey = P256.Signing.PrivateKey()
        let notBefore = Date().addingTimeInterval(-3600)
        let notAfter = notBefore.addingTimeInterval(366 * 86_400)
        let caName = try DistinguishedName {
            OrganizationName("port-emulator")
            CommonName("port-emulator Kafka CA")
        }
        let ca = try Certificate(
            version: .v3,
            serialNumber: .init(),
            publicKey: .init(caKey.publicKey),
            notValidBefore: notBefore,
            notValidAfter: notAfter,
            issuer: caName,
            subject: caName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(caKey)
        )
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
            issuer: caName,
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
            caPEM: try ca.serializeAsPEM().pemString
        )
    }

    private static func ipv4Bytes(_ host: String) -> [UInt8]? {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        let bytes = parts.compactMap { UInt8($0) }
        return bytes.count == 4 ? bytes : nil
    }
}
