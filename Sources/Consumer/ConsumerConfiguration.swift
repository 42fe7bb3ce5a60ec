import PortContract
public import PortKafka

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The consumer's settings, from the environment and an optional `.env` file (the
/// environment wins). Port's production values are the defaults.
public struct ConsumerConfiguration: Sendable {
    /// `PORT_CLIENT_ID`.
    public var clientID: String
    /// `PORT_CLIENT_SECRET`; never logged.
    public var clientSecret: String
    /// `PORT_ORG_ID`.
    public var orgID: String
    /// `PORT_API_URL`, with `/v1` (default `https://api.getport.io/v1`).
    public var apiURL: String
    /// `KAFKA_BROKERS`, comma-separated.
    public var brokers: [String]
    /// `KAFKA_CONSUMER_GROUP_ID` (default `ORG_ID.port-consumer`).
    public var groupID: String
    /// The security protocol, from `KAFKA_SECURITY_PROTOCOL`, `KAFKA_SASL_MECHANISM`,
    /// `KAFKA_USERNAME` and `KAFKA_PASSWORD` (SASL_SSL with SCRAM-SHA-512 when a username
    /// is set, Port's setting).
    public var security: KafkaSecurityProtocol
    /// The SASL username, if any.
    public var kafkaUsername: String?
    /// `PORT_CONSUMER_HANDLERS`: the handler file (default `handlers.json` when it exists).
    public var handlersPath: String?
    /// `PORT_CONSUMER_CONCURRENCY` (default 16).
    public var concurrency: Int
    /// `PORT_CONSUMER_DEAD_LETTER_TOPIC`, if any.
    public var deadLetterTopic: String?
    /// `PORT_CONSUMER_VERIFY_SIGNATURES` (default true).
    public var verifySignatures: Bool
    /// `PORT_CONSUMER_CHANGE_LOG` (default false): also consume `ORG_ID.change.log`.
    public var consumeChangeLog: Bool
    /// `PORT_CONSUMER_INSTANCE_ID` (default `port-consumer-HOSTNAME`; `none` turns it off):
    /// the Kafka `group.instance.id`, so that a restarted consumer gets its partitions back
    /// at once. Give each process on one host its own.
    public var groupInstanceID: String?
    /// `KAFKA_FETCH_WAIT_MAX_MS` (default 500, librdkafka's): how long a fetch may wait for
    /// data. Port's brokers, and the emulator's Kafka front, answer as soon as data arrives.
    public var fetchWaitMaxMilliseconds: Int

    /// The invocations topic.
    public var runsTopic: String { "\(orgID).runs" }
    /// The entity change-log topic.
    public var changeLogTopic: String { "\(orgID).change.log" }

    /// A setting that is missing or invalid, named.
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        /// The one line to print.
        public let description: String

        /// A problem described in one line.
        public init(description: String) {
            self.description = description
        }
    }

    /// Reads `environment`, filling gaps from the `KEY=VALUE` lines of `dotEnv` (if given).
    public init(environment: [String: String], dotEnv: String? = nil) throws(Problem) {
        var values = dotEnv.map(Self.parseDotEnv) ?? [:]
        for (key, value) in environment { values[key] = value }
        func required(_ key: String) throws(Problem) -> String {
            guard let value = values[key]?.trimmingWhitespace(), !value.isEmpty else {
                throw Problem(description: "\(key) is not set")
            }
            return value
        }
        clientID = try required("PORT_CLIENT_ID")
        clientSecret = try required("PORT_CLIENT_SECRET")
        orgID = try required("PORT_ORG_ID")
        apiURL = values["PORT_API_URL"] ?? "https://api.getport.io/v1"
        guard let url = URL(string: apiURL), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw Problem(description: "PORT_API_URL '\(apiURL)' is not an http(s) URL")
        }
        brokers = try required("KAFKA_BROKERS").split(separator: ",").map {
            $0.trimmingWhitespace()
        }
        kafkaUsername = values["KAFKA_USERNAME"].flatMap { $0.isEmpty ? nil : $0 }
        groupID = values["KAFKA_CONSUMER_GROUP_ID"] ?? "\(orgID).port-consumer"
        guard groupID.hasPrefix("\(orgID).") || groupID == kafkaUsername else {
            throw Problem(
                description: "KAFKA_CONSUMER_GROUP_ID '\(groupID)' must start with '\(orgID).' or equal "
                    + "KAFKA_USERNAME (Port's rule for consumer groups)"
            )
        }
        var settings = KafkaSecuritySettings()
        settings.securityProtocol =
            values["KAFKA_SECURITY_PROTOCOL"] ?? (kafkaUsername == nil ? "plaintext" : "sasl_ssl")
        settings.saslMechanism = values["KAFKA_SASL_MECHANISM"] ?? "SCRAM-SHA-512"
        settings.username = kafkaUsername
        settings.password = values["KAFKA_PASSWORD"]
        settings.caLocation = values["KAFKA_SSL_CA_LOCATION"]
        do {
            security = try settings.resolve()
        } catch {
            throw Problem(description: "KAFKA_SECURITY_PROTOCOL/KAFKA_SASL_MECHANISM/KAFKA_USERNAME: \(error.reason)")
        }
        handlersPath = values["PORT_CONSUMER_HANDLERS"]
        let concurrencyText = values["PORT_CONSUMER_CONCURRENCY"] ?? "16"
        guard let concurrency = Int(concurrencyText), (1...1024).contains(concurrency) else {
            throw Problem(description: "PORT_CONSUMER_CONCURRENCY '\(concurrencyText)' is not a number from 1 to 1024")
        }
        self.concurrency = concurrency
        deadLetterTopic = values["PORT_CONSUMER_DEAD_LETTER_TOPIC"].flatMap { $0.isEmpty ? nil : $0 }
        verifySignatures = (values["PORT_CONSUMER_VERIFY_SIGNATURES"] ?? "true").lowercased() != "false"
        consumeChangeLog = (values["PORT_CONSUMER_CHANGE_LOG"] ?? "false").lowercased() == "true"
        let instance = values["PORT_CONSUMER_INSTANCE_ID"] ?? "port-consumer-\(ProcessInfo.processInfo.hostName)"
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        guard
            instance.lowercased() == "none"
                || (1...249).contains(instance.count) && instance.allSatisfy(allowed.contains)
        else {
            throw Problem(
                description:
                    "PORT_CONSUMER_INSTANCE_ID '\(instance)' must be 1 to 249 letters, digits, '.', '_' or '-' "
                    + "(or none)"
            )
        }
        groupInstanceID = instance.lowercased() == "none" ? nil : instance
        let fetchWaitText = values["KAFKA_FETCH_WAIT_MAX_MS"] ?? "500"
        guard let fetchWait = Int(fetchWaitText), (0...300_000).contains(fetchWait) else {
            throw Problem(description: "KAFKA_FETCH_WAIT_MAX_MS '\(fetchWaitText)' is not a number from 0 to 300000")
        }
        fetchWaitMaxMilliseconds = fetchWait
    }

    /// `KEY=VALUE` lines; `#` comments, blank lines, `export ` and shell quotes allowed.
    static func parseDotEnv(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for rawLine in text.split(whereSeparator: \.isNewline) {
            var line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line.removeFirst(7) }
            guard let equals = line.firstIndex(of: "=") else { continue }
            var value = String(line[line.index(after: equals)...])
            if value.count >= 2, let first = value.first, first == value.last, first == "'" || first == "\"" {
                value = String(value.dropFirst().dropLast())
                if first == "'" { value = value.replacing("'\\''", with: "'") }
            }
            values[line[..<equals].trimmingWhitespace()] = value
        }
        return values
    }

    /// The settings for logs: everything but the secrets.
    public var redactedDescription: String {
        "org=\(orgID) api=\(apiURL) brokers=\(brokers.joined(separator: ",")) group=\(groupID) "
            + "client_id=\(clientID) client_secret=*** kafka_user=\(kafkaUsername ?? "-") "
            + "concurrency=\(concurrency) instance=\(groupInstanceID ?? "-")"
    }
}
