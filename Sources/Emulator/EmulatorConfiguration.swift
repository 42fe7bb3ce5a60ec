import PortContract
import PortKafka

/// How a `PortEmulator` is set up.
public struct EmulatorConfiguration: Sendable {
    /// The IPv4 address the API binds; `127.0.0.1` keeps the unauthenticated admin API local.
    public var host: String = "127.0.0.1"
    /// The API port; 0 picks a free one.
    public var port: Int = 5100
    /// The organization id; topics are `<orgID>.runs` and `<orgID>.change.log`.
    public var orgID: String = "org_emulator"
    /// Partitions of each topic.
    public var partitions: Int = 3
    /// Brokers of the embedded Kafka cluster.
    public var brokers: Int = 1
    /// An existing Kafka to use instead of the embedded cluster.
    public var externalKafka: ExternalKafka?
    /// The client id consumers authenticate with.
    public var clientID: String = "emulator-client-id"
    /// The client secret consumers authenticate with.
    public var clientSecret: String = Self.defaultClientSecret
    /// How long an access token lives (Port: 3 hours).
    public var tokenTTL: Duration = .seconds(10_800)
    /// The blueprints and actions the organization starts with.
    public var fixtures = Fixtures()
    /// Added to every answer of Port's API, to imitate a network (`--api-latency`).
    public var apiLatency: Duration = .zero
    /// How long a publish may wait for Kafka before the run ends as FAILURE.
    public var publishTimeout: Duration = .seconds(30)
    /// `.secrets` of the payload-template context (`--secret NAME=VALUE`).
    public var secrets: [String: String] = [:]
    /// The embedded Kafka's front: its users, TLS and ACLs (ignored with `externalKafka`).
    public var kafkaFront = EmbeddedKafkaFrontSettings()
    /// A Lambda function triggered by the organization's topics (`--lambda`), if any.
    public var lambda: LambdaSettings?
    /// How many API calls the journal keeps, and how many refused requests the violations
    /// list keeps, before the oldest go (`--max-journal-entries`).
    public var journalCapacity = CallRecorder.defaultCapacity
    /// How many finished runs are kept before the oldest go (`--max-finished-runs`); runs in
    /// progress, waiting for approval or waited on are never evicted.
    public var finishedRunCapacity = RunStore.defaultFinishedRunCapacity
    /// Each partition of the embedded Kafka keeps its newest this many bytes of messages
    /// (Kafka's `retention.bytes`; `--kafka-retention-mib`); older ones go, as Port's brokers'
    /// retention drops them.
    public var kafkaRetentionBytes = EmulatorConfiguration.defaultKafkaRetentionBytes
    /// Where the state is kept between starts (`--state-dir`): the catalog, runs with their
    /// logs, the journal, the organization, teams and users, secrets' names (never their
    /// values) and the clock. `nil` keeps nothing, and nothing is written.
    public var stateDirectory: String?
    /// When the state's records reach the disk (`--state-sync`).
    public var stateSync: StateSyncPolicy = .batch
    /// A snapshot replaces the state's log once it holds this many bytes (`--state-compact-mib`).
    public var stateCompactionBytes = EmulatorConfiguration.defaultStateCompactionBytes
    /// 16 MiB per partition: about 10,000 run messages, as many as the finished runs kept.
    public static let defaultKafkaRetentionBytes = 16 << 20
    /// 64 MiB of records since the last snapshot.
    public static let defaultStateCompactionBytes = 64 << 20

    /// Creates the default configuration.
    public init() {}

    /// The client id that test tools (`verify`, `trigger`) use, so the journal tells their
    /// own calls apart from the consumer's. The emulator always accepts it.
    public static let testerClientID = "port-emulator-tester"
    /// The default client secret: a test credential, as long as Port's (secret inputs'
    /// key is a client secret's first 32 bytes).
    public static let defaultClientSecret = "emulator-client-secret-7Qm2xV9pL4kR8nW3zT6yB1"
    /// The tester's client secret.
    public static let testerClientSecret = "port-emulator-tester-secret"

    /// The invocations topic.
    public var runsTopic: String { "\(orgID).runs" }
    /// The entity and run change-log topic.
    public var changeLogTopic: String { "\(orgID).change.log" }

    /// The Kafka user `GET /v1/kafka-credentials` hands out: the external Kafka's SASL user,
    /// or the SCRAM user of the embedded Kafka's SASL_SSL listeners.
    var kafkaCredentials: (username: String, password: String) {
        switch externalKafka?.security {
        case .saslPlaintext(let sasl)?, .saslTLS(let sasl, _)?: (sasl.username, sasl.password)
        default: (kafkaUsername, kafkaFront.password)
        }
    }

    /// The customer's Kafka username on the embedded Kafka (default: the org id).
    public var kafkaUsername: String { kafkaFront.username ?? orgID }

    /// Checks every field and returns one message per problem (empty when all is well).
    public func problems() -> [String] {
        var problems: [String] = []
        if !(0...65535).contains(port) { problems.append("port \(port) is not between 0 and 65535") }
        if !(1...1000).contains(partitions) {
            problems.append("partitions must be between 1 and 1000, not \(partitions)")
        }
        if !(1...16).contains(brokers) { problems.append("brokers must be between 1 and 16, not \(brokers)") }
        if clientID.isEmpty || clientSecret.isEmpty { problems.append("client id and client secret must not be empty") }
        if tokenTTL <= .zero { problems.append("token TTL must be positive") }
        let secretActions = fixtures.actions.filter { !$0.inputSchema.encryptedProperties.isEmpty }.map(\.identifier)
        if !secretActions.isEmpty, clientSecret.utf8.count < SecretInput.keyLength {
            problems.append(
                "the client secret is \(clientSecret.utf8.count) bytes, but \(secretActions.joined(separator: ", ")) "
                    + "encrypt inputs with its first \(SecretInput.keyLength) bytes (aes256-gcm): "
                    + "give a --client-secret of at least \(SecretInput.keyLength) bytes, as Port's are"
            )
        }
        if stateCompactionBytes < 1 { problems.append("the state's compaction threshold must be positive") }
        if publishTimeout < .milliseconds(100) { problems.append("publish timeout must be at least 100ms") }
        if let externalKafka {
            for server in externalKafka.bootstrapServers where !Self.isHostPort(server) {
                problems.append("Kafka bootstrap server '\(server)' is not HOST:PORT")
            }
            if externalKafka.bootstrapServers.isEmpty { problems.append("no Kafka bootstrap server given") }
        }
        problems += kafkaFront.problems()
        if let lambda {
            problems += lambda.problems()
            if externalKafka != nil {
                problems.append(
                    "--lambda reads through the embedded Kafka's SASL_SSL front: it cannot be used with an external Kafka"
                )
            }
        }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        if orgID.isEmpty || orgID.count > 200 || !orgID.allSatisfy(allowed.contains) {
            problems.append(
                "org id '\(orgID)' must be 1-200 characters of letters, digits, '.', '_' or '-' (it names Kafka topics)"
            )
        }
        return problems
    }

    private static func isHostPort(_ text: String) -> Bool {
        guard let colon = text.lastIndex(of: ":"), colon != text.startIndex else { return false }
        guard let port = Int(text[text.index(after: colon)...]) else { return false }
        return (1...65535).contains(port)
    }
}

/// How the embedded Kafka's front looks to clients: Port's SASL_SSL with SCRAM, Port's ACLs,
/// and where its listeners are advertised.
public struct EmbeddedKafkaFrontSettings: Sendable {
    /// The customer's SCRAM username (default: the org id).
    public var username: String?
    /// The customer's SCRAM password (`--kafka-password`, or `KAFKA_PASSWORD`).
    public var password = "emulator-kafka-password"
    /// Port's ACLs on every listener; false lets any group, topic and produce through.
    public var acls = true
    /// The host Metadata answers give clients (`--kafka-advertised-host`); it is also in the
    /// generated certificate's names.
    public var advertisedHost = "127.0.0.1"
    /// The first listener's port (`--kafka-port`): broker 1's PLAINTEXT listener, then its
    /// SASL_SSL one, then broker 2's…; 0 picks free ports.
    public var port = 0
    /// A PEM server certificate (chain) for the SASL_SSL listeners, instead of a generated one.
    public var tlsCertificateFile: String?
    /// The PEM private key of `tlsCertificateFile`.
    public var tlsKeyFile: String?
    /// Where the generated CA is written (default: a new file in the temporary directory);
    /// with `tlsCertificateFile`, the CA file handed to clients (default: the certificate file).
    public var caFile: String?

    /// How long a new consumer group waits for more members before its first rebalance
    /// (Kafka's `group.initial.rebalance.delay.ms`, 3 s).
    public var initialRebalanceDelay: Duration = .seconds(3)
    /// Connections idle this long are closed (Kafka's `connections.max.idle.ms`, 10 minutes).
    public var idleTimeout: Duration = .seconds(600)

    /// The defaults: SCRAM user = org id, a laptop password, ACLs on, a generated certificate.
    public init() {}

    func problems() -> [String] {
        var problems: [String] = []
        if (tlsCertificateFile == nil) != (tlsKeyFile == nil) {
            problems.append("--kafka-tls-cert and --kafka-tls-key go together")
        }
        if password.isEmpty { problems.append("the Kafka password must not be empty") }
        if let username, username.isEmpty || username.contains(",") || username.contains("=") {
            problems.append("Kafka username '\(username)' must be non-empty, without ',' or '='")
        }
        if advertisedHost.isEmpty { problems.append("the advertised Kafka host must not be empty") }
        if !(0...65000).contains(port) { problems.append("the Kafka port must be between 0 and 65000, not \(port)") }
        return problems
    }
}
