/// How a client authenticates and encrypts its connections to the brokers.
public enum KafkaSecurityProtocol: Sendable, Hashable {
    /// No TLS, no SASL: the embedded cluster and local test brokers.
    case plaintext
    /// TLS without SASL.
    case tls(KafkaTLSConfiguration)
    /// SASL without TLS.
    case saslPlaintext(KafkaSASLConfiguration)
    /// SASL over TLS: what Port's brokers require (with SCRAM-SHA-512).
    case saslTLS(KafkaSASLConfiguration, KafkaTLSConfiguration)

    /// librdkafka's properties for this protocol.
    var properties: [String: String] {
        switch self {
        case .plaintext:
            return ["security.protocol": "plaintext"]
        case .tls(let tls):
            return tls.properties.merging(["security.protocol": "ssl"]) { $1 }
        case .saslPlaintext(let sasl):
            return sasl.properties.merging(["security.protocol": "sasl_plaintext"]) { $1 }
        case .saslTLS(let sasl, let tls):
            return sasl.properties.merging(tls.properties) { $1 }.merging(["security.protocol": "sasl_ssl"]) { $1 }
        }
    }
}

/// A SASL mechanism supported by librdkafka.
public enum KafkaSASLMechanism: String, Sendable, Hashable, CaseIterable {
    /// Username and password sent as they are (only safe over TLS).
    case plain = "PLAIN"
    /// Salted challenge-response with SHA-256.
    case scramSHA256 = "SCRAM-SHA-256"
    /// Salted challenge-response with SHA-512: Port's mechanism.
    case scramSHA512 = "SCRAM-SHA-512"
}

/// SASL credentials.
public struct KafkaSASLConfiguration: Sendable, Hashable, CustomStringConvertible {
    /// The mechanism to authenticate with.
    public var mechanism: KafkaSASLMechanism
    /// The SASL username.
    public var username: String
    /// The SASL password; never printed by `description`.
    public var password: String

    /// Creates SASL credentials.
    public init(mechanism: KafkaSASLMechanism, username: String, password: String) {
        self.mechanism = mechanism
        self.username = username
        self.password = password
    }

    /// The mechanism and username; the password is redacted.
    public var description: String { "\(mechanism.rawValue) as \(username) (password redacted)" }

    var properties: [String: String] {
        ["sasl.mechanisms": mechanism.rawValue, "sasl.username": username, "sasl.password": password]
    }
}

/// TLS settings; with no CA location librdkafka uses the system's trust store.
public struct KafkaTLSConfiguration: Sendable, Hashable {
    /// A PEM file of CA certificates that signed the brokers' certificates.
    public var caLocation: String?
    /// A PEM client certificate, for mutual TLS.
    public var certificateLocation: String?
    /// The PEM private key of the client certificate.
    public var keyLocation: String?
    /// Whether to check the broker's certificate chain.
    public var verifyCertificates: Bool
    /// Whether to check that the broker's certificate names its host.
    public var verifyHostname: Bool

    /// Creates TLS settings; by default certificates and host names are verified.
    public init(
        caLocation: String? = nil,
        certificateLocation: String? = nil,
        keyLocation: String? = nil,
        verifyCertificates: Bool = true,
        verifyHostname: Bool = true
    ) {
        self.caLocation = caLocation
        self.certificateLocation = certificateLocation
        self.keyLocation = keyLocation
        self.verifyCertificates = verifyCertificates
        self.verifyHostname = verifyHostname
    }

    var properties: [String: String] {
        var properties = [
            "enable.ssl.certificate.verification": verifyCertificates ? "true" : "false",
            "ssl.endpoint.identification.algorithm": verifyHostname ? "https" : "none",
        ]
        properties["ssl.ca.location"] = caLocation
        properties["ssl.certificate.location"] = certificateLocation
        properties["ssl.key.location"] = keyLocation
        return properties
    }
}

/// How many replicas must acknowledge a produced message before it counts as delivered.
public enum KafkaAcks: Sendable, Hashable {
    /// Fire and forget.
    case none
    /// The partition leader only.
    case leader
    /// All in-sync replicas: the default, and the only safe choice for runs.
    case all

    var value: String {
        switch self {
        case .none: return "0"
        case .leader: return "1"
        case .all: return "all"
        }
    }
}

/// Where a consumer group starts reading a partition that has no committed offset.
public enum KafkaOffsetReset: String, Sendable, Hashable {
    /// From the oldest retained message.
    case earliest
    /// Only messages produced after the consumer joined.
    case latest
}

/// Typed configuration of a `KafkaProducer`.
public struct KafkaProducerConfiguration: Sendable {
    /// `host:port` addresses of one or more brokers.
    public var bootstrapServers: [String]
    /// The client id sent to the brokers.
    public var clientID: String = "port-kafka-harness"
    /// How long to wait to fill a batch before sending it.
    public var linger: Duration = .milliseconds(5)
    /// How many replicas must acknowledge a message.
    public var acks: KafkaAcks = .all
    /// How long a message may wait for delivery, including retries and broker outages.
    public var messageTimeout: Duration = .seconds(300)
    /// Whether to use the idempotent producer (no duplicates on retry, ordered delivery).
    public var enableIdempotence: Bool = false
    /// Authentication and encryption.
    public var securityProtocol: KafkaSecurityProtocol = .plaintext
    /// The longest wait between reconnection attempts to a broker that went away
    /// (librdkafka's default, 10 s, left clients idle up to 8 s after a 3 s outage).
    public var reconnectBackoffMax: Duration = .seconds(1)
    /// Raw librdkafka properties applied last, for settings this type does not name.
    public var additionalProperties: [String: String] = [:]

    /// Creates a configuration for the given brokers.
    public init(bootstrapServers: [String]) {
        self.bootstrapServers = bootstrapServers
    }

    /// The librdkafka key/value pairs this configuration stands for.
    public var librdkafkaProperties: [String: String] {
        var properties: [String: String] = [
            "bootstrap.servers": bootstrapServers.joined(separator: ","),
            "client.id": clientID,
            "linger.ms": String(linger.wholeMilliseconds),
            "acks": acks.value,
            "message.timeout.ms": String(max(1, messageTimeout.wholeMilliseconds)),
            "enable.idempotence": enableIdempotence ? "true" : "false",
            "reconnect.backoff.max.ms": String(max(1, reconnectBackoffMax.wholeMilliseconds)),
        ]
        properties.merge(securityProtocol.properties) { $1 }
        properties.merge(additionalProperties) { $1 }
        return properties
    }
}

/// Typed configuration of a balanced consumer-group `KafkaConsumer`.
public struct KafkaConsumerConfiguration: Sendable {
    /// `host:port` addresses of one or more brokers.
    public var bootstrapServers: [String]
    /// The consumer group to join.
    public var groupID: String
    /// The client id sent to the brokers.
    public var clientID: String = "port-kafka-harness"
    /// Where to start in partitions without a committed offset.
    public var autoOffsetReset: KafkaOffsetReset = .earliest
    /// How long the group coordinator waits for a heartbeat before evicting this member.
    public var sessionTimeout: Duration = .seconds(10)
    /// A stable id of this member across restarts (KIP-345 static membership): a restarted
    /// member with the same id gets its partitions back at once instead of waiting out the
    /// dead one's session. Such a member does not leave the group when it closes. Each
    /// running process needs its own id; nil for an ordinary member.
    public var groupInstanceID: String?
    /// How often this member sends heartbeats.
    public var heartbeatInterval: Duration = .seconds(1)
    /// How long the application may take between two reads before it leaves the group.
    public var maxPollInterval: Duration = .seconds(300)
    /// Authentication and encryption.
    public var securityProtocol: KafkaSecurityProtocol = .plaintext
    /// The longest wait between reconnection attempts to a broker that went away
    /// (librdkafka's default, 10 s, left consumers idle up to 8 s after a 3 s outage).
    public var reconnectBackoffMax: Duration = .seconds(1)
    /// Raw librdkafka properties applied last, for settings this type does not name.
    public var additionalProperties: [String: String] = [:]

    /// Creates a configuration for the given brokers and group.
    public init(bootstrapServers: [String], groupID: String) {
        self.bootstrapServers = bootstrapServers
        self.groupID = groupID
    }

    /// The librdkafka key/value pairs this configuration stands for; commits are always manual.
    public var librdkafkaProperties: [String: String] {
        var properties: [String: String] = [
            "bootstrap.servers": bootstrapServers.joined(separator: ","),
            "group.id": groupID,
            "client.id": clientID,
            "auto.offset.reset": autoOffsetReset.rawValue,
            "session.timeout.ms": String(sessionTimeout.wholeMilliseconds),
            "heartbeat.interval.ms": String(heartbeatInterval.wholeMilliseconds),
            "max.poll.interval.ms": String(maxPollInterval.wholeMilliseconds),
            "enable.auto.commit": "false",
            "enable.auto.offset.store": "false",
            "enable.partition.eof": "false",
            "reconnect.backoff.max.ms": String(max(1, reconnectBackoffMax.wholeMilliseconds)),
        ]
        if let groupInstanceID { properties["group.instance.id"] = groupInstanceID }
        if let groupInstanceID { properties["group.instance.id"] = groupInstanceID }
        properties.merge(securityProtocol.properties) { $1 }
        properties.merge(additionalProperties) { $1 }
        return properties
    }
}

extension Duration {
    /// The duration in whole milliseconds, rounded down (the package's one conversion; the
    /// emulator uses it too).
    package var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
