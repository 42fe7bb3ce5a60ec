import Foundation

extension EmulatorInfo {
    /// The consumer's group id: Port requires the `ORG_ID.` prefix.
    public var consumerGroupID: String { "\(orgID).consumer" }

    /// The settings a consumer needs, as `KEY=VALUE` lines a shell can source.
    public var environment: [(key: String, value: String)] {
        [
            ("PORT_API_URL", apiURL),
            ("PORT_API_BASE_URL", apiBaseURL),
            ("PORT_ORG_ID", orgID),
            ("PORT_CLIENT_ID", clientID),
            ("PORT_CLIENT_SECRET", clientSecret),
            ("KAFKA_BROKERS", kafkaBootstrapServers),
            ("KAFKA_CONSUMER_GROUP_ID", consumerGroupID),
        ]
    }
}

/// The `--env-file`: written atomically once the emulator is ready, so that its existence
/// means "ready", and removed when the emulator stops, so that a stale file never does.
public enum EnvFile {
    /// Removes a file left by an earlier run, so nobody mistakes it for this one's.
    public static func removeStale(at path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw EmulatorError(message: "cannot remove the old env file \(path): \(error.localizedDescription)")
        }
    }

    /// Writes the settings to a temporary file beside `path`, then renames it into place.
    public static func write(_ info: EmulatorInfo, to path: String) throws {
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
            throw EmulatorError(message: "cannot write the env file \(path): \(error.localizedDescription)")
        }
    }

    /// Quotes a value for POSIX shells when it holds anything beyond safe characters.
    static func shellQuoted(_ value: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-:/,@+=")
        if !value.isEmpty, value.allSatisfy(safe.contains) { return value }
        return "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
