import ArgumentParser
import Emulator
import Foundation
import Kafka
import Logging
import PortContract
import ServiceLifecycle
import UnixSignals

extension PortEmulatorCommand {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start the embedded Kafka and the HTTP API, print one ready line, run until SIGINT or SIGTERM."
        )

        @Option(help: "IPv4 address to bind the API to. The admin API has no authentication: keep it local.")
        var host = "127.0.0.1"

        @Option(help: "API port; 0 picks a free port (the ready line says which).")
        var port = 5100

        @Option(name: .customLong("org-id"), help: "Organization id; the topics are ORG_ID.runs and ORG_ID.change.log.")
        var orgID = "org_emulator"

        @Option(help: "Partitions of each topic.")
        var partitions = 3

        @Option(help: "Brokers in the embedded Kafka cluster.")
        var brokers = 1

        @Option(name: .customLong("client-id"), help: "The client id consumers authenticate with.")
        var clientID = "emulator-client-id"

        @Option(name: .customLong("client-secret"), help: "The client secret consumers authenticate with.")
        var clientSecret = EmulatorConfiguration.defaultClientSecret

        @Option(
            name: .customLong("token-ttl"),
            help: "How long access tokens live: 500ms, 30s, 5m, 3h or seconds (Port: 3h). Short values test expiry."
        )
        var tokenTTL = "3h"

        @Option(
            name: .customLong("env-file"),
            help: ArgumentHelp(
                "Write the consumer's settings (PORT_API_URL, KAFKA_BROKERS, ...) here once ready; removed on stop.",
                discussion:
                    "With the embedded Kafka it also holds port-agent's local-mode settings: it can be port-agent's .env."
            )
        )
        var envFile: String?

        @Option(
            help: ArgumentHelp(
                "Directory of blueprints/*.json and actions/*.json to start with.",
                discussion: "Default: ./fixtures when it exists, else none.",
                valueName: "dir"
            )
        )
        var fixtures: String?

        @Option(
            name: .customLong("kafka-bootstrap"),
            help: ArgumentHelp(
                "Use this Kafka (HOST:PORT, comma-separated) instead of the embedded one.",
                discussion: "The topics are created when missing (the user needs CreateTopics).",
                valueName: "host:port"
            )
        )
        var kafkaBootstrap: String?

        @Option(
            name: .customLong("kafka-security-protocol"),
            help: "With --kafka-bootstrap: plaintext, ssl, sasl_plaintext or sasl_ssl (Port's brokers: sasl_ssl)."
        )
        var kafkaSecurityProtocol = "plaintext"

        @Option(name: .customLong("kafka-sasl-mechanism"), help: "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.")
        var kafkaSASLMechanism = "SCRAM-SHA-512"

        @Option(
            name: .customLong("kafka-username"),
            help: ArgumentHelp(
                "SASL username: of --kafka-bootstrap, or the customer's SCRAM user of the embedded Kafka.",
                discussion: "Embedded default: the org id."
            )
        )
        var kafkaUsername: String?

        @Option(
            name: .customLong("kafka-password"),
            help: ArgumentHelp(
                "SASL password (or set KAFKA_PASSWORD, which keeps it out of the process list).",
                discussion: "Embedded default: emulator-kafka-password."
            )
        )
        var kafkaPassword: String?

        @Option(
            name: .customLong("kafka-acls"),
            help:
                "on: the embedded Kafka enforces Port's ACLs (groups ORG_ID.* or the username, read-only topics); off: anything goes."
        )
        var kafkaACLs = "on"

        @Option(
            name: .customLong("kafka-initial-rebalance-delay"),
            help: ArgumentHelp(
                "How long a new consumer group waits for more members before its first rebalance.",
                discussion: "Kafka's group.initial.rebalance.delay.ms: 3s, as Apache Kafka and Port's brokers."
            )
        )
        var kafkaInitialRebalanceDelay = "3s"

        @Option(
            name: .customLong("kafka-idle-timeout"),
            help: "Kafka connections idle this long are closed (Kafka's connections.max.idle.ms)."
        )
        var kafkaIdleTimeout = "10m"

        @Option(
            name: .customLong("kafka-advertised-host"),
            help: "The host the embedded Kafka's listeners announce to clients (and its certificate names)."
        )
        var kafkaAdvertisedHost = "127.0.0.1"

        @Option(
            name: .customLong("kafka-port"),
            help: ArgumentHelp(
                "The embedded Kafka's first listener port; the others follow it. 0 picks free ports.",
                discussion: "Broker 1's PLAINTEXT listener, then its SASL_SSL one, then broker 2's: with --kafka-port "
                    + "9092, 9092 is PLAINTEXT and 9093 SASL_SSL (a container can publish them)."
            )
        )
        var kafkaPort = 0

        @Option(
            name: .customLong("kafka-tls-cert"),
            help:
                "PEM server certificate (chain) for the embedded Kafka's SASL_SSL listeners, instead of a generated one."
        )
        var kafkaTLSCertificate: String?

        @Option(name: .customLong("kafka-tls-key"), help: "PEM private key of --kafka-tls-cert.")
        var kafkaTLSKey: String?

        @Option(
            name: .customLong("kafka-ca-file"),
            help: ArgumentHelp(
                "Where to write the generated CA of the SASL_SSL listeners (with --kafka-tls-cert: the CA to hand out).",
                discussion: "Default: a new file in the temporary directory, removed on stop; the ready line names it."
            )
        )
        var kafkaCAFile: String?

        @Option(
            name: .customLong("kafka-ca-location"),
            help: "PEM file of the CA that signed the brokers' certificates."
        )
        var kafkaCALocation: String?

        @Option(name: .customLong("kafka-cert-location"), help: "PEM client certificate, for mutual TLS.")
        var kafkaCertificateLocation: String?

        @Option(name: .customLong("kafka-key-location"), help: "PEM private key of the client certificate.")
        var kafkaKeyLocation: String?

        @Option(
            name: .customLong("secret"),
            help: ArgumentHelp(
                "A secret payload templates read as .secrets.NAME; repeat for more.",
                valueName: "name=value"
            )
        )
        var secrets: [String] = []

        @Option(
            name: .customLong("secrets-file"),
            help: "A file of secrets: a JSON object of strings, or NAME=VALUE lines (# comments allowed)."
        )
        var secretsFile: String?

        @Option(
            name: .customLong("publish-timeout"),
            help: "How long a publish may wait for Kafka before its run ends as FAILURE: 500ms, 30s, 5m."
        )
        var publishTimeout = "30s"

        @Option(
            name: .customLong("api-latency"),
            help: "Delay every answer of Port's API by this much (e.g. 30ms), as a network to Port would."
        )
        var apiLatency = "0ms"

        @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
        var logLevel = "info"

        /// The flags as the library's options, which check them and make the configuration.
        var options: ServeOptions {
            var options = ServeOptions()
            options.host = host
            options.port = port
            options.orgID = orgID
            options.partitions = partitions
            options.brokers = brokers
            options.clientID = clientID
            options.clientSecret = clientSecret
            options.tokenTTL = tokenTTL
            options.fixtures = fixtures
            options.kafkaBootstrap = kafkaBootstrap
            options.kafkaSecurityProtocol = kafkaSecurityProtocol
            options.kafkaSASLMechanism = kafkaSASLMechanism
            options.kafkaUsername = kafkaUsername
            options.kafkaPassword = kafkaPassword
            options.kafkaACLs = kafkaACLs
            options.kafkaAdvertisedHost = kafkaAdvertisedHost
            options.kafkaPort = kafkaPort
            options.kafkaInitialRebalanceDelay = kafkaInitialRebalanceDelay
            options.kafkaIdleTimeout = kafkaIdleTimeout
            options.kafkaTLSCertificate = kafkaTLSCertificate
            options.kafkaTLSKey = kafkaTLSKey
            options.kafkaCAFile = kafkaCAFile
            options.kafkaCALocation = kafkaCALocation
            options.kafkaCertificateLocation = kafkaCertificateLocation
            options.kafkaKeyLocation = kafkaKeyLocation
            options.secrets = secrets
            options.secretsFile = secretsFile
            options.publishTimeout = publishTimeout
            options.apiLatency = apiLatency
            return options
        }

        func validate() throws {
            guard Logger.Level(rawValue: logLevel) != nil else {
                throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
            }
            do { try options.validate() } catch { throw ValidationError(error.message) }
        }

        func emulatorConfiguration() throws -> EmulatorConfiguration {
            do { return try options.configuration() } catch { throw ValidationError(error.message) }
        }

        func run() async throws {
            bootstrapLogging(Logger.Level(rawValue: logLevel) ?? .info)
            let logger = Logger(label: "port-emulator")
            var configuration = try emulatorConfiguration()
            if let directory = options.fixturesDirectory {
                do {
                    configuration.fixtures = try Fixtures.load(from: directory)
                } catch {
                    throw ValidationError("--fixtures: \(error)")
                }
                logger.info(
                    "fixtures loaded",
                    metadata: [
                        "directory": "\(directory)", "blueprints": "\(configuration.fixtures.blueprints.count)",
                        "actions": "\(configuration.fixtures.actions.count)",
                    ]
                )
            }
            let service = EmulatorService(configuration: configuration, envFile: envFile, logger: logger) {
                info in
                // Scripts wait for this line through a pipe: write it unbuffered.
                say(info.readyLine)
            }
            let group = ServiceGroup(
                configuration: .init(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            )
            do {
                try await group.run()
            } catch {
                logger.error("port-emulator stopped: \(error)")
                throw ExitCode.failure
            }
        }
    }
}
