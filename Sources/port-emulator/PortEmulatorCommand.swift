import ArgumentParser
import Emulator
import Foundation
import Kafka
import Logging
import PortContract
import ServiceLifecycle

@main
struct PortEmulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "port-emulator",
        abstract: "A local stand-in for Port (getport.io): its API and an embedded Kafka, for testing action backends.",
        discussion: """
            `serve` starts the embedded Kafka cluster with the organization's topics behind a \
            Kafka front that looks like Port's brokers (a PLAINTEXT and a SASL_SSL listener with \
            SCRAM-SHA-512, Port's ACLs on groups and topics, long-poll fetches), loads the \
            blueprints and actions of a fixtures directory, and serves Port's API (auth, action \
            runs and their state machine, logs, approval, blueprints, actions, entities with \
            run_id) and the admin API under /_emulator/ (runs, journal, violations, faults, \
            reset). --kafka-bootstrap uses an existing Kafka instead of the embedded one. \
            `trigger` starts a run of an action and can wait for it. `verify` checks a consumer, \
            in any language, against Port's contract through scenarios, and writes JUnit and \
            JSON reports.
            """,
        subcommands: [Serve.self, Trigger.self, Verify.self],
        defaultSubcommand: Serve.self
    )
}

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

        func validate() throws {
            guard Logger.Level(rawValue: logLevel) != nil else {
                throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
            }
            guard DurationText.parse(apiLatency) != nil else {
                throw ValidationError("--api-latency '\(apiLatency)' is not a duration; write e.g. 30ms")
            }
            guard DurationText.parse(publishTimeout) != nil else {
                throw ValidationError(
                    "--publish-timeout '\(publishTimeout)' is not a duration; write e.g. 500ms or 30s"
                )
            }
            _ = try secretValues()
            guard DurationText.parse(tokenTTL) != nil else {
                throw ValidationError("--token-ttl '\(tokenTTL)' is not a duration; write e.g. 500ms, 30s, 5m or 3h")
            }
            let problems = try emulatorConfiguration().problems()
            guard problems.isEmpty else { throw ValidationError(problems.joined(separator: "\n")) }
        }

        /// `--kafka-bootstrap` and its security options, or `nil` for the embedded Kafka.
        func externalKafka() throws -> ExternalKafka? {
            guard let kafkaBootstrap else {
                let securityFlags = [kafkaCALocation, kafkaCertificateLocation, kafkaKeyLocation]
                guard kafkaSecurityProtocol == "plaintext", securityFlags.allSatisfy({ $0 == nil }) else {
                    throw ValidationError(
                        "--kafka-security-protocol and --kafka-*-location need --kafka-bootstrap "
                            + "(the embedded Kafka serves both PLAINTEXT and SASL_SSL)"
                    )
                }
                return nil
            }
            let frontFlags = [kafkaTLSCertificate, kafkaTLSKey, kafkaCAFile]
            guard frontFlags.allSatisfy({ $0 == nil }), kafkaACLs == "on", kafkaAdvertisedHost == "127.0.0.1",
                kafkaPort == 0
            else {
                throw ValidationError(
                    "--kafka-acls, --kafka-advertised-host, --kafka-port, --kafka-tls-* and --kafka-ca-file are for the embedded "
                        + "Kafka; with --kafka-bootstrap the real broker's own security and ACLs apply"
                )
            }
            var settings = KafkaSecuritySettings()
            settings.securityProtocol = kafkaSecurityProtocol
            settings.saslMechanism = kafkaSASLMechanism
            settings.username = kafkaUsername
            settings.password = kafkaPassword ?? ProcessInfo.processInfo.environment["KAFKA_PASSWORD"]
            settings.caLocation = kafkaCALocation
            settings.certificateLocation = kafkaCertificateLocation
            settings.keyLocation = kafkaKeyLocation
            do {
                return ExternalKafka(
                    bootstrapServers: kafkaBootstrap.split(separator: ",").map {
                        $0.trimmingCharacters(in: .whitespaces)
                    },
                    security: try settings.resolve()
                )
            } catch {
                throw ValidationError("--kafka-*: \(error.reason)")
            }
        }

        /// `--fixtures`, or `./fixtures` when it exists.
        var fixturesDirectory: String? {
            if let fixtures { return fixtures }
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: "fixtures", isDirectory: &isDirectory)
            return exists && isDirectory.boolValue ? "fixtures" : nil
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

        func emulatorConfiguration() throws -> EmulatorConfiguration {
            var configuration = EmulatorConfiguration()
            configuration.externalKafka = try externalKafka()
            configuration.secrets = try secretValues()
            configuration.publishTimeout = DurationText.parse(publishTimeout) ?? configuration.publishTimeout
            configuration.apiLatency = DurationText.parse(apiLatency) ?? .zero
            configuration.host = host
            configuration.port = port
            configuration.orgID = orgID
            configuration.partitions = partitions
            configuration.brokers = brokers
            configuration.clientID = clientID
            configuration.clientSecret = clientSecret
            configuration.tokenTTL = DurationText.parse(tokenTTL) ?? configuration.tokenTTL
            guard ["on", "off"].contains(kafkaACLs) else { throw ValidationError("--kafka-acls must be on or off") }
            if configuration.externalKafka == nil {
                configuration.kafkaFront.acls = kafkaACLs == "on"
                configuration.kafkaFront.username = kafkaUsername
                if let password = kafkaPassword ?? ProcessInfo.processInfo.environment["KAFKA_PASSWORD"] {
                    configuration.kafkaFront.password = password
                }
                configuration.kafkaFront.advertisedHost = kafkaAdvertisedHost
                configuration.kafkaFront.port = kafkaPort
                configuration.kafkaFront.tlsCertificateFile = kafkaTLSCertificate
                configuration.kafkaFront.tlsKeyFile = kafkaTLSKey
                configuration.kafkaFront.caFile = kafkaCAFile
            }
            return configuration
        }

        func run() async throws {
            bootstrapLogging(Logger.Level(rawValue: logLevel) ?? .info)
            let logger = Logger(label: "port-emulator")
            var configuration = try emulatorConfiguration()
            if let directory = fixturesDirectory {
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

extension PortEmulatorCommand {
    struct Trigger: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Trigger a run of an action on a running emulator and print its id; --wait follows it.",
            discussion: """
                The emulator is found through --url, else PORT_API_URL or PORT_API_BASE_URL (source \
                serve's --env-file), else http://127.0.0.1:5100. Credentials come from --client-id and \
                --client-secret, else PORT_CLIENT_ID and PORT_CLIENT_SECRET, else the emulator's defaults.

                Exit status: 0 when the run was created (with --wait: when it ended SUCCESS), 1 when it \
                ended FAILURE or DECLINED, 2 when --timeout passed first, 3 when the emulator refused \
                the request or could not be reached.
                """
        )

        @Argument(help: "The action's identifier, e.g. create_vm.")
        var action: String

        @Option(
            name: .customLong("input"),
            help: ArgumentHelp(
                "An input as NAME=VALUE; repeat for more. VALUE is read as JSON when it is JSON, else as text.",
                discussion: "--input cpu=2 gives a number, --input name=vm-1 a string, --input 'tags=[\"a\"]' a list.",
                valueName: "name=value"
            )
        )
        var inputs: [String] = []

        @Option(help: "The entity a DAY-2 or DELETE action acts on.")
        var entity: String?

        @Option(name: .customLong("as"), help: "The user the run is triggered as (an email).")
        var user: String?

        @Flag(help: "Follow the run: print status changes and logs until it finishes.")
        var wait = false

        @Option(help: "With --wait: how long to follow before giving up (exit 2): 500ms, 30s, 5m.")
        var timeout = "30s"

        @Option(help: "The emulator's API URL, with or without /v1.")
        var url: String?

        @Option(name: .customLong("client-id"), help: "The client id to authenticate with.")
        var clientID: String?

        @Option(name: .customLong("client-secret"), help: "The client secret to authenticate with.")
        var clientSecret: String?

        func validate() throws {
            guard DurationText.parse(timeout) != nil else {
                throw ValidationError("--timeout '\(timeout)' is not a duration; write e.g. 500ms, 30s or 5m")
            }
            _ = try parsedInputs()
        }

        /// `--input` values as JSON: JSON when they parse as JSON, text otherwise.
        func parsedInputs() throws -> JSONObject {
            var inputs = JSONObject()
            for pair in self.inputs {
                guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                    throw ValidationError("--input '\(pair)' is not NAME=VALUE")
                }
                let text = String(pair[pair.index(after: equals)...])
                inputs[String(pair[..<equals])] = (try? JSONValue.parse(text)) ?? .string(text)
            }
            return inputs
        }

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            let target =
                url ?? environment["PORT_API_URL"] ?? environment["PORT_API_BASE_URL"] ?? "http://127.0.0.1:5100"
            do {
                var client = try EmulatorClient(url: target)
                client.clientID = clientID ?? environment["PORT_CLIENT_ID"] ?? client.clientID
                client.clientSecret = clientSecret ?? environment["PORT_CLIENT_SECRET"] ?? client.clientSecret
                let run = try await client.trigger(
                    action: action,
                    inputs: try parsedInputs(),
                    entity: entity,
                    user: user
                )
                let runID = run["id"]?.stringValue ?? ""
                say(runID)
                guard wait else { return }
                let limit = DurationText.parse(timeout) ?? .seconds(30)
                let final = try await client.follow(runID: runID, timeout: limit) { event in
                    switch event {
                    case .status(let status, let label): say("status \(status)" + (label.map { " (\($0))" } ?? ""))
                    case .log(let message): say("log    \(message)")
                    }
                }
                switch final {
                case "SUCCESS": return
                case nil:
                    FileHandle.standardError.write(
                        Data("port-emulator trigger: \(runID) did not finish within \(timeout)\n".utf8)
                    )
                    throw ExitCode(2)
                default: throw ExitCode(1)
                }
            } catch let error as EmulatorClientError {
                FileHandle.standardError.write(Data("port-emulator trigger: \(error.message)\n".utf8))
                throw ExitCode(3)
            }
        }
    }
}

/// Sends every log line at `level` or above to stderr (stdout carries the ready line and
/// reports).
func bootstrapLogging(_ level: Logger.Level) {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
}

/// Writes a line to stdout at once (scripts read it through a pipe).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
