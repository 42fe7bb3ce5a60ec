import Foundation
import Kafka
import PortContract

/// `port-emulator serve`'s options as the command line gives them, and the configuration
/// they make: every check, default and error message of `serve` lives here, in the library
/// (as `ConsumerConfiguration` for port-consumer), and the executable only maps its flags.
public struct ServeOptions: Sendable {
    /// `--host`: IPv4 address to bind the API to. The admin API has no authentication: keep it local.
    public var host = "127.0.0.1"
    /// `--port`: API port; 0 picks a free port (the ready line says which).
    public var port = 5100
    /// `--org-id`: Organization id; the topics are ORG_ID.runs and ORG_ID.change.log.
    public var orgID = "org_emulator"
    /// `--partitions`: Partitions of each topic.
    public var partitions = 3
    /// `--brokers`: Brokers in the embedded Kafka cluster.
    public var brokers = 1
    /// `--client-id`: The client id consumers authenticate with.
    public var clientID = "emulator-client-id"
    /// `--client-secret`: The client secret consumers authenticate with.
    public var clientSecret = EmulatorConfiguration.defaultClientSecret
    /// `--token-ttl`: How long access tokens live: 500ms, 30s, 5m, 3h or seconds (Port: 3h). Short values test expiry.
    public var tokenTTL = "3h"
    /// `--fixtures`: Directory of blueprints/*.json and actions/*.json to start with.
    public var fixtures: String?
    /// `--kafka-bootstrap`: Use this Kafka (HOST:PORT, comma-separated) instead of the embedded one.
    public var kafkaBootstrap: String?
    /// `--kafka-security-protocol`: With --kafka-bootstrap: plaintext, ssl, sasl_plaintext or sasl_ssl (Port's brokers: sasl_ssl).
    public var kafkaSecurityProtocol = "plaintext"
    /// `--kafka-sasl-mechanism`: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
    public var kafkaSASLMechanism = "SCRAM-SHA-512"
    /// `--kafka-username`: SASL username: of --kafka-bootstrap, or the customer's SCRAM user of the embedded Kafka.
    public var kafkaUsername: String?
    /// `--kafka-password`: SASL password (or set KAFKA_PASSWORD, which keeps it out of the process list).
    public var kafkaPassword: String?
    /// `--kafka-acls`: on: the embedded Kafka enforces Port's ACLs (groups ORG_ID.* or the username, read-only topics); off: anything goes.
    public var kafkaACLs = "on"
    /// `--kafka-advertised-host`: The host the embedded Kafka's listeners announce to clients (and its certificate names).
    public var kafkaAdvertisedHost = "127.0.0.1"
    /// `--kafka-port`: The embedded Kafka's first listener port; the others follow it. 0 picks free ports.
    public var kafkaPort = 0
    /// `--kafka-initial-rebalance-delay`: How long a new group waits for more members before its first
    /// rebalance (Kafka's group.initial.rebalance.delay.ms).
    public var kafkaInitialRebalanceDelay = "3s"
    /// `--kafka-idle-timeout`: Connections idle this long are closed (Kafka's connections.max.idle.ms).
    public var kafkaIdleTimeout = "10m"
    /// `--kafka-tls-cert`: PEM server certificate (chain) for the embedded Kafka's SASL_SSL listeners, instead of a generated one.
    public var kafkaTLSCertificate: String?
    /// `--kafka-tls-key`: PEM private key of --kafka-tls-cert.
    public var kafkaTLSKey: String?
    /// `--kafka-ca-file`: Where to write the generated CA of the SASL_SSL listeners (with --kafka-tls-cert: the CA to hand out).
    public var kafkaCAFile: String?
    /// `--kafka-ca-location`: PEM file of the CA that signed the brokers' certificates.
    public var kafkaCALocation: String?
    /// `--kafka-cert-location`: PEM client certificate, for mutual TLS.
    public var kafkaCertificateLocation: String?
    /// `--kafka-key-location`: PEM private key of the client certificate.
    public var kafkaKeyLocation: String?
    /// `--secret`: A secret payload templates read as .secrets.NAME; repeat for more.
    public var secrets: [String] = []
    /// `--secrets-file`: A file of secrets: a JSON object of strings, or NAME=VALUE lines (# comments allowed).
    public var secretsFile: String?
    /// `--publish-timeout`: How long a publish may wait for Kafka before its run ends as FAILURE: 500ms, 30s, 5m.
    public var publishTimeout = "30s"
    /// `--api-latency`: Delay every answer of Port's API by this much (e.g. 30ms), as a network to Port would.
    public var apiLatency = "0ms"
    /// Where `KAFKA_PASSWORD` is read (the process's environment by default).
    public var environment: [String: String] = ProcessInfo.processInfo.environment

    /// The defaults of `port-emulator serve`.
    public init() {}

    /// Checks every option; the error names the flag and says what to write.
    public func validate() throws(ServeOptionsError) {
        guard DurationText.parse(apiLatency) != nil else {
            throw ServeOptionsError("--api-latency '\(apiLatency)' is not a duration; write e.g. 30ms")
        }
        guard DurationText.parse(publishTimeout) != nil else {
            throw ServeOptionsError(
                "--publish-timeout '\(publishTimeout)' is not a duration; write e.g. 500ms or 30s"
            )
        }
        _ = try secretValues()
        guard DurationText.parse(tokenTTL) != nil else {
            throw ServeOptionsError("--token-ttl '\(tokenTTL)' is not a duration; write e.g. 500ms, 30s, 5m or 3h")
        }
        let problems = try configuration().problems()
        guard problems.isEmpty else { throw ServeOptionsError(problems.joined(separator: "\n")) }
    }

    /// `--kafka-bootstrap` and its security options, or `nil` for the embedded Kafka.
    func externalKafka() throws(ServeOptionsError) -> ExternalKafka? {
        guard let kafkaBootstrap else {
            let securityFlags = [kafkaCALocation, kafkaCertificateLocation, kafkaKeyLocation]
            guard kafkaSecurityProtocol == "plaintext", securityFlags.allSatisfy({ $0 == nil }) else {
                throw ServeOptionsError(
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
            throw ServeOptionsError(
                "--kafka-acls, --kafka-advertised-host, --kafka-port, --kafka-tls-* and --kafka-ca-file are for the embedded "
                    + "Kafka; with --kafka-bootstrap the real broker's own security and ACLs apply"
            )
        }
        var settings = KafkaSecuritySettings()
        settings.securityProtocol = kafkaSecurityProtocol
        settings.saslMechanism = kafkaSASLMechanism
        settings.username = kafkaUsername
        settings.password = kafkaPassword ?? environment["KAFKA_PASSWORD"]
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
            throw ServeOptionsError("--kafka-*: \(error.reason)")
        }
    }

    /// `--fixtures`, or `./fixtures` when it exists.
    public var fixturesDirectory: String? {
        if let fixtures { return fixtures }
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: "fixtures", isDirectory: &isDirectory)
        return exists && isDirectory.boolValue ? "fixtures" : nil
    }

    /// `--secrets-file` then `--secret` (which wins), as NAME to value.
    func secretValues() throws(ServeOptionsError) -> [String: String] {
        var values: [String: String] = [:]
        if let secretsFile {
            do {
                values = try SecretsFile.read(secretsFile)
            } catch {
                throw ServeOptionsError("--secrets-file: \(error)")
            }
        }
        for pair in secrets {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw ServeOptionsError("--secret '\(pair.prefix { $0 != "=" })…' is not NAME=VALUE")
            }
            values[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        return values
    }

    /// The emulator's configuration (without fixtures: load `fixturesDirectory` into it).
    public func configuration() throws(ServeOptionsError) -> EmulatorConfiguration {
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
        guard ["on", "off"].contains(kafkaACLs) else { throw ServeOptionsError("--kafka-acls must be on or off") }
        if configuration.externalKafka == nil {
            configuration.kafkaFront.acls = kafkaACLs == "on"
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
        guard let delay = DurationText.parse(kafkaInitialRebalanceDelay) else {
            throw ServeOptionsError(
                "--kafka-initial-rebalance-delay '\(kafkaInitialRebalanceDelay)' is not a duration (3s, 500ms)"
            )
        }
        guard let idle = DurationText.parse(kafkaIdleTimeout), idle > .zero else {
            throw ServeOptionsError(
                "--kafka-idle-timeout '\(kafkaIdleTimeout)' is not a duration above zero (10m, 30s)"
            )
        }
        configuration.kafkaFront.initialRebalanceDelay = delay
        configuration.kafkaFront.idleTimeout = idle
        return configuration
    }
}

/// A bad `serve` option, in one line naming the flag.
public struct ServeOptionsError: Error, Sendable, CustomStringConvertible {
    /// What is wrong and how to write it.
    public let message: String
    /// The message.
    public var description: String { message }

    init(_ message: String) { self.message = message }
}
