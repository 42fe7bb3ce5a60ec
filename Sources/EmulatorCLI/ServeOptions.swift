package import ArgumentParser
package import Emulator
import PortContract
import PortKafka

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `port-emulator serve`'s options, each declared once with its help: the command line
/// (`@OptionGroup` in `serve`), `validate()` for what no single flag can check, and the
/// emulator's configuration they make. Tests build them as the command line does:
/// `try ServeOptions.parse(["--port", "0"])`.
package struct ServeOptions: ParsableArguments, Sendable {
    /// The options' defaults, as `serve` without flags.
    package init() {}

    @Option(help: "IPv4 address to bind the API to. The admin API has no authentication: keep it local.")
    package var host = "127.0.0.1"

    @Option(help: "API port; 0 picks a free port (the ready line says which).")
    package var port = 5100

    @Option(name: .customLong("org-id"), help: "Organization id; the topics are ORG_ID.runs and ORG_ID.change.log.")
    package var orgID = "org_emulator"

    @Option(help: "Partitions of each topic.")
    package var partitions = 3

    @Option(help: "Brokers in the embedded Kafka cluster.")
    package var brokers = 1

    @Option(name: .customLong("client-id"), help: "The client id consumers authenticate with.")
    package var clientID = "emulator-client-id"

    @Option(name: .customLong("client-secret"), help: "The client secret consumers authenticate with.")
    package var clientSecret = EmulatorConfiguration.defaultClientSecret

    @Option(
        name: .customLong("token-ttl"),
        help: ArgumentHelp(
            "How long access tokens live: 500ms, 30s, 5m, 3h or seconds (Port: 3h). Short values test expiry.",
            valueName: "duration"
        )
    )
    package var tokenTTL = DurationArgument("3h", .seconds(10_800))

    @Option(
        help: ArgumentHelp(
            "Directory of blueprints/*.json and actions/*.json to start with.",
            discussion: "Default: ./fixtures when it exists, else none.",
            valueName: "dir"
        )
    )
    package var fixtures: String?

    @Option(
        name: .customLong("kafka-bootstrap"),
        help: ArgumentHelp(
            "Use this Kafka (HOST:PORT, comma-separated) instead of the embedded one.",
            discussion: "The topics are created when missing (the user needs CreateTopics).",
            valueName: "host:port"
        )
    )
    package var kafkaBootstrap: String?

    @Option(
        name: .customLong("kafka-security-protocol"),
        help: "With --kafka-bootstrap: plaintext, ssl, sasl_plaintext or sasl_ssl (Port's brokers: sasl_ssl)."
    )
    package var kafkaSecurityProtocol = KafkaSecurityProtocolArgument.plaintext

    @Option(name: .customLong("kafka-sasl-mechanism"), help: "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.")
    package var kafkaSASLMechanism = SASLMechanismArgument.scramSHA512

    @Option(
        name: .customLong("kafka-username"),
        help: ArgumentHelp(
            "SASL username: of --kafka-bootstrap, or the customer's SCRAM user of the embedded Kafka.",
            discussion: "Embedded default: the org id."
        )
    )
    package var kafkaUsername: String?

    @Option(
        name: .customLong("kafka-password"),
        help: ArgumentHelp(
            "SASL password (or set KAFKA_PASSWORD, which keeps it out of the process list).",
            discussion: "Embedded default: emulator-kafka-password."
        )
    )
    package var kafkaPassword: String?

    @Option(
        name: .customLong("kafka-acls"),
        help:
            "on: the embedded Kafka enforces Port's ACLs (groups ORG_ID.* or the username, read-only topics); off: anything goes."
    )
    package var kafkaACLs = Switch.on

    @Option(
        name: .customLong("kafka-initial-rebalance-delay"),
        help: ArgumentHelp(
            "How long a new consumer group waits for more members before its first rebalance.",
            discussion: "Kafka's group.initial.rebalance.delay.ms: 3s, as Apache Kafka and Port's brokers.",
            valueName: "duration"
        )
    )
    package var kafkaInitialRebalanceDelay = DurationArgument("3s", .seconds(3))

    @Option(
        name: .customLong("kafka-idle-timeout"),
        help: ArgumentHelp(
            "Kafka connections idle this long are closed (Kafka's connections.max.idle.ms).",
            valueName: "duration"
        )
    )
    package var kafkaIdleTimeout = DurationArgument("10m", .seconds(600))

    @Option(
        name: .customLong("kafka-advertised-host"),
        help: "The host the embedded Kafka's listeners announce to clients (and its certificate names)."
    )
    package var kafkaAdvertisedHost = "127.0.0.1"

    @Option(
        name: .customLong("kafka-port"),
        help: ArgumentHelp(
            "The embedded Kafka's first listener port; the others follow it. 0 picks free ports.",
            discussion: "Broker 1's PLAINTEXT listener, then its SASL_SSL one, then broker 2's: with --kafka-port "
                + "9092, 9092 is PLAINTEXT and 9093 SASL_SSL (a container can publish them)."
        )
    )
    package var kafkaPort = 0

    @Option(
        name: .customLong("kafka-tls-cert"),
        help: "PEM server certificate (chain) for the embedded Kafka's SASL_SSL listeners, instead of a generated one."
    )
    package var kafkaTLSCertificate: String?

    @Option(name: .customLong("kafka-tls-key"), help: "PEM private key of --kafka-tls-cert.")
    package var kafkaTLSKey: String?

    @Option(
        name: .customLong("kafka-ca-file"),
        help: ArgumentHelp(
            "Where to write the generated CA of the SASL_SSL listeners (with --kafka-tls-cert: the CA to hand out).",
            discussion: "Default: a new file in the temporary directory, removed on stop; the ready line names it."
        )
    )
    package var kafkaCAFile: String?

    @Option(name: .customLong("kafka-ca-location"), help: "PEM file of the CA that signed the brokers' certificates.")
    package var kafkaCALocation: String?

    @Option(name: .customLong("kafka-cert-location"), help: "PEM client certificate, for mutual TLS.")
    package var kafkaCertificateLocation: String?

    @Option(name: .customLong("kafka-key-location"), help: "PEM private key of the client certificate.")
    package var kafkaKeyLocation: String?

    @Option(
        name: .customLong("secret"),
        help: ArgumentHelp(
            "A secret payload templates read as .secrets.NAME; repeat for more.",
            valueName: "name=value"
        )
    )
    package var secrets: [String] = []

    @Option(
        name: .customLong("secrets-file"),
        help: "A file of secrets: a JSON object of strings, or NAME=VALUE lines (# comments allowed)."
    )
    package var secretsFile: String?

    @Option(
        name: .customLong("publish-timeout"),
        help: ArgumentHelp(
            "How long a publish may wait for Kafka before its run ends as FAILURE: 500ms, 30s, 5m.",
            valueName: "duration"
        )
    )
    package var publishTimeout = DurationArgument("30s", .seconds(30))

    @Option(
        name: .customLong("api-latency"),
        help: ArgumentHelp(
            "Delay every answer of Port's API by this much (e.g. 30ms), as a network to Port would.",
            valueName: "duration"
        )
    )
    package var apiLatency = DurationArgument("0ms", .zero)

    /// What no single flag can check: secrets, the idle timeout, the embedded Kafka's flags
    /// against `--kafka-bootstrap`, and the configuration's own rules. Each error names the
    /// flag and says what to write.
    @Option(
        name: .customLong("lambda"),
        help: ArgumentHelp(
            "Run a Lambda function triggered by ORG_ID.runs: its runtime client's command, in quotes.",
            discussion:
                "E.g. --lambda 'python -m awslambdaric app.handler'. The emulator serves the Lambda Runtime API "
                + "on its port (AWS_LAMBDA_RUNTIME_API), runs the command with the consumer's settings and Lambda's "
                + "variables in its environment, and invokes it with batches as Lambda's Kafka event source mapping "
                + "does. An empty command serves the Runtime API for a runtime client you start yourself. "
                + "See the --lambda-* options.",
            valueName: "command"
        )
    )
    package var lambdaCommand: String?

    @OptionGroup(title: "Lambda")
    package var lambda: LambdaOptions

    @OptionGroup(title: "Memory")
    package var caps: CapOptions

    package func validate() throws {
        _ = try secretValues()
        guard kafkaIdleTimeout.duration > .zero else {
            throw ValidationError("--kafka-idle-timeout '\(kafkaIdleTimeout)' must be above zero (10m, 30s)")
        }
        let problems = try configuration().problems()
        guard problems.isEmpty else { throw ValidationError(problems.joined(separator: "\n")) }
    }

    /// `--kafka-bootstrap` and its security options, or `nil` for the embedded Kafka.
    func externalKafka(environment: [String: String]) throws -> ExternalKafka? {
        guard let kafkaBootstrap else {
            let securityFlags = [kafkaCALocation, kafkaCertificateLocation, kafkaKeyLocation]
            guard kafkaSecurityProtocol == .plaintext, securityFlags.allSatisfy({ $0 == nil }) else {
                throw ValidationError(
                    "--kafka-security-protocol and --kafka-*-location need --kafka-bootstrap "
                        + "(the embedded Kafka serves both PLAINTEXT and SASL_SSL)"
                )
            }
            return nil
        }
        let frontFlags = [kafkaTLSCertificate, kafkaTLSKey, kafkaCAFile]
        guard frontFlags.allSatisfy({ $0 == nil }), kafkaACLs == .on, kafkaAdvertisedHost == "127.0.0.1",
            kafkaPort == 0
        else {
            throw ValidationError(
                "--kafka-acls, --kafka-advertised-host, --kafka-port, --kafka-tls-* and --kafka-ca-file are for the embedded "
                    + "Kafka; with --kafka-bootstrap the real broker's own security and ACLs apply"
            )
        }
        var settings = KafkaSecuritySettings()
        settings.securityProtocol = kafkaSecurityProtocol.rawValue
        settings.saslMechanism = kafkaSASLMechanism.rawValue
        settings.username = kafkaUsername
        settings.password = kafkaPassword ?? environment["KAFKA_PASSWORD"]
        settings.caLocation = kafkaCALocation
        settings.certificateLocation = kafkaCertificateLocation
        settings.keyLocation = kafkaKeyLocation
        do {
            return ExternalKafka(
                bootstrapServers: kafkaBootstrap.split(separator: ",").map {
                    $0.trimmingWhitespace()
                },
                security: try settings.resolve()
            )
        } catch {
            throw ValidationError("--kafka-*: \(error.reason)")
        }
    }

    /// `--fixtures`, or `./fixtures` when it exists.
    package var fixturesDirectory: String? {
        if let fixtures { return fixtures }
        return isDirectory("fixtures") ? "fixtures" : nil
    }

    /// `--secrets-file` then `--secret` (which wins), as NAME to value.
    func secretValues() throws -> [String: String] {
        var values: [String: String] = [:]
        if let secretsFile {
            do {
                values = try SecretsFile.read(secretsFile)
            } catch {
                throw ValidationError("--secrets-file: \(error)")
            }
        }
        for pair in secrets {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw ValidationError("--secret '\(pair.prefix { $0 != "=" })…' is not NAME=VALUE")
            }
            values[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        return values
    }

    /// The emulator's configuration (without fixtures: load `fixturesDirectory` into it);
    /// `environment` is where `KAFKA_PASSWORD` is read (nil: the process's).
    package func configuration(environment: [String: String]? = nil) throws -> EmulatorConfiguration {
        let environment = environment ?? ProcessInfo.processInfo.environment
        var configuration = EmulatorConfiguration()
        configuration.externalKafka = try externalKafka(environment: environment)
        configuration.secrets = try secretValues()
        configuration.publishTimeout = publishTimeout.duration
        configuration.apiLatency = apiLatency.duration
        configuration.host = host
        configuration.port = port
        configuration.orgID = orgID
        configuration.partitions = partitions
        configuration.brokers = brokers
        configuration.clientID = clientID
        configuration.clientSecret = clientSecret
        configuration.tokenTTL = tokenTTL.duration
        if configuration.externalKafka == nil {
            configuration.kafkaFront.acls = kafkaACLs == .on
            configuration.kafkaFront.username = kafkaUsername
            if let password = kafkaPassword ?? environment["KAFKA_PASSWORD"] {
                configuration.kafkaFront.password = password
            }
            configuration.kafkaFront.advertisedHost = kafkaAdvertisedHost
            configuration.kafkaFront.port = kafkaPort
            configuration.kafkaFront.tlsCertificateFile = kafkaTLSCertificate
            configuration.kafkaFront.tlsKeyFile = kafkaTLSKey
            configuration.kafkaFront.caFile = kafkaCAFile
        }
        if let lambdaCommand {
            configuration.lambda = try lambda.settings(command: try CommandLineWords.split(lambdaCommand))
        } else if lambda.isChanged {
            throw ValidationError("the --lambda-* options need --lambda")
        }
        caps.apply(to: &configuration)
        configuration.kafkaFront.initialRebalanceDelay = kafkaInitialRebalanceDelay.duration
        configuration.kafkaFront.idleTimeout = kafkaIdleTimeout.duration
        return configuration
    }
}
