/// Kafka connection security as command lines and environment variables spell it, turned
/// into a `KafkaSecurityProtocol` with one clear error per mistake.
public struct KafkaSecuritySettings: Sendable, Equatable {
    /// `plaintext`, `ssl`, `sasl_plaintext` or `sasl_ssl` (librdkafka's names, any case).
    public var securityProtocol: String = "plaintext"
    /// `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512` (Port's).
    public var saslMechanism: String = KafkaSASLMechanism.scramSHA512.rawValue
    /// The SASL username.
    public var username: String?
    /// The SASL password.
    public var password: String?
    /// A PEM file of the CA certificates that signed the brokers' certificates.
    public var caLocation: String?
    /// A PEM client certificate, for mutual TLS.
    public var certificateLocation: String?
    /// The client certificate's PEM private key.
    public var keyLocation: String?

    /// Plaintext, no credentials.
    public init() {}

    /// The protocol these settings describe, or an error saying what is missing or wrong.
    public func resolve() throws(KafkaError) -> KafkaSecurityProtocol {
        let tls = KafkaTLSConfiguration(
            caLocation: caLocation,
            certificateLocation: certificateLocation,
            keyLocation: keyLocation
        )
        switch securityProtocol.lowercased() {
        case "plaintext": return .plaintext
        case "ssl": return .tls(tls)
        case "sasl_plaintext": return .saslPlaintext(try sasl())
        case "sasl_ssl": return .saslTLS(try sasl(), tls)
        default:
            throw KafkaError(
                code: .invalidConfiguration,
                reason: "security protocol '\(securityProtocol)' is not one of plaintext, ssl, sasl_plaintext, sasl_ssl"
            )
        }
    }

    private func sasl() throws(KafkaError) -> KafkaSASLConfiguration {
        guard let mechanism = KafkaSASLMechanism(rawValue: saslMechanism.uppercased()) else {
            throw KafkaError(
                code: .invalidConfiguration,
                reason: "SASL mechanism '\(saslMechanism)' is not one of "
                    + KafkaSASLMechanism.allCases.map(\.rawValue).joined(separator: ", ")
            )
        }
        guard let username, !username.isEmpty, let password, !password.isEmpty else {
            throw KafkaError(
                code: .invalidConfiguration,
                reason: "\(securityProtocol) needs a SASL username and password"
            )
        }
        return KafkaSASLConfiguration(mechanism: mechanism, username: username, password: password)
    }
}
