import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension EmulatorInfo {
    /// The consumer's group id: Port requires the `ORG_ID.` prefix.
    package var consumerGroupID: String { "\(orgID).consumer" }

    /// The settings a consumer needs, as `KEY=VALUE` lines a shell can source: under the
    /// names port-consumer reads, and, with the embedded Kafka, under the names Port's
    /// `port-agent` reads in local mode (`USING_LOCAL_PORT_INSTANCE`: it takes the brokers
    /// from its settings instead of asking Port for Kafka credentials), so that the file can
    /// be port-agent's `.env` as it is.
    package var environment: [(key: String, value: String)] {
        var settings = [
            ("PORT_API_URL", apiURL),
            ("PORT_API_BASE_URL", apiBaseURL),
            ("PORT_ORG_ID", orgID),
            ("PORT_CLIENT_ID", clientID),
            ("PORT_CLIENT_SECRET", clientSecret),
            ("KAFKA_BROKERS", kafkaBootstrapServers),
            ("KAFKA_CONSUMER_GROUP_ID", consumerGroupID),
        ]
        if let kafkaSASLSSLBootstrapServers, let kafkaUsername, let kafkaPassword, let kafkaCALocation {
            // The bootstrap above is the plaintext listener; these reach the SASL_SSL one as
            // Port's brokers are reached (KAFKA_SECURITY_PROTOCOL=SASL_SSL and
            // KAFKA_BROKERS=$KAFKA_SASL_SSL_BROKERS switch port-consumer over).
            settings += [
                ("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT"),
                ("KAFKA_SASL_SSL_BROKERS", kafkaSASLSSLBootstrapServers),
                ("KAFKA_SASL_MECHANISM", kafkaSASLMechanism ?? "SCRAM-SHA-512"),
                ("KAFKA_USERNAME", kafkaUsername),
                ("KAFKA_PASSWORD", kafkaPassword),
                ("KAFKA_SSL_CA_LOCATION", kafkaCALocation),
            ]
        }
        if kafka == "embedded" {
            settings += [
                ("STREAMER_NAME", "KAFKA"),
                ("USING_LOCAL_PORT_INSTANCE", "True"),
                // port-agent's name for the brokers; KAFKA_CONSUMER_BROKERS in its older releases.
                ("KAFKA_CONSUMER_BOOTSTRAP_SERVERS", kafkaBootstrapServers),
                ("KAFKA_CONSUMER_BROKERS", kafkaBootstrapServers),
                ("KAFKA_CONSUMER_SECURITY_PROTOCOL", "PLAINTEXT"),
                ("KAFKA_CONSUMER_AUTO_OFFSET_RESET", "earliest"),
                ("KAFKA_RUNS_TOPIC", runsTopic),
                ("KAFKA_CHANGE_LOG_TOPIC", changeLogTopic),
            ]
        }
        return settings
    }
}

/// The `--env-file`: written atomically once the emulator is ready, so that its existence
/// means "ready", and removed when the emulator stops, so that a stale file never does.
package enum EnvFile {
    /// Removes a file left by an earlier run, so nobody mistakes it for this one's.
    package static func removeStale(at path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw EmulatorError(message: "cannot remove the old env file \(path): \(describeError(error))")
        }
    }

    /// Writes the settings to a temporary file beside `path`, then renames it into place.
    package static func write(_ info: EmulatorInfo, to path: String) throws {
        let text = info.environment.map { "\($0.key)=\(shellQuoted($0.value))" }.joined(separator: "\n") + "\n"
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        do {
            try Data(text.utf8).write(to: temporary)
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(at: temporary, to: url)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw EmulatorError(message: "cannot write the env file \(path): \(describeError(error))")
        }
    }

    /// Quotes a value for POSIX shells when it holds anything beyond safe characters.
    static func shellQuoted(_ value: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-:/,@+=")
        if !value.isEmpty, value.allSatisfy(safe.contains) { return value }
        return "'" + value.replacing("'", with: "'\\''") + "'"
    }
}
