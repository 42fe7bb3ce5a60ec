import ArgumentParser
import PortContract

/// A duration as people write it on a command line (`500ms`, `30s`, `5m`, `3h`, `2d`, or
/// seconds), keeping the text for `--help`'s defaults and for messages.
package struct DurationArgument: ExpressibleByArgument, CustomStringConvertible, Sendable, Equatable {
    /// The duration.
    package let duration: Duration
    /// The text it was written as.
    package let text: String

    /// Reads `argument`; nil (ArgumentParser's "invalid value" naming the flag) when it is
    /// not a duration.
    package init?(argument: String) {
        guard let duration = DurationText.parse(argument) else { return nil }
        self.duration = duration
        text = argument
    }

    /// A default written in source (a literal known to parse).
    init(_ text: String, _ duration: Duration) {
        self.text = text
        self.duration = duration
    }

    /// The text, as `--help` shows the default.
    package var description: String { text }
    /// The text, as `--help` shows the default.
    package var defaultValueDescription: String { text }
}

/// `on` or `off`.
package enum Switch: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// Enabled.
    case on
    /// Disabled.
    case off
}

/// `--kafka-security-protocol`'s values, as librdkafka names them.
package enum KafkaSecurityProtocolArgument: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// No TLS, no SASL.
    case plaintext
    /// TLS without SASL.
    case ssl
    /// SASL without TLS.
    case saslPlaintext = "sasl_plaintext"
    /// SASL over TLS (Port's brokers).
    case saslSSL = "sasl_ssl"
}

/// `--kafka-sasl-mechanism`'s values.
package enum SASLMechanismArgument: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// SASL/PLAIN.
    case plain = "PLAIN"
    /// SCRAM with SHA-256.
    case scramSHA256 = "SCRAM-SHA-256"
    /// SCRAM with SHA-512 (Port's brokers).
    case scramSHA512 = "SCRAM-SHA-512"
}
