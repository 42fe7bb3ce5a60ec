import Logging
import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The built-in handlers of a handler file (JSON, or YAML when it ends in `.yaml`/`.yml`):
///
/// ```json
/// {"actions": {"create_vm": {"command": ["./create_vm.sh"], "timeout": "120s"},
///              "notify":    {"webhook": "https://hooks.example.com/port"}},
///  "workflowNodes": {"provision": {"command": ["./provision.sh"]}},
///  "changeLog": {"vm": {"command": ["./on_vm_change.sh"]}}}
/// ```
///
/// `changeLog` handlers run per entity change of their blueprint (`*` for any).
///
/// Commands run in the file's directory, so relative script paths work.
public enum HandlerFile {
    /// The handlers by action, and by workflow node, or an error naming the file and entry.
    public static func load(
        _ path: String,
        signingSecret: String
    ) throws(ConsumerConfiguration.Problem) -> (
        actions: [String: RunHandler], nodes: [String: RunHandler], changes: [String: ChangeHandler]
    ) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .init(description: "handler file \(path) cannot be read")
        }
        let isYAML = path.hasSuffix(".yaml") || path.hasSuffix(".yml")
        let parsed = isYAML ? yamlDocument(String(decoding: data, as: UTF8.self)) : try? JSONValue.parse(Array(data))
        guard let document = parsed?.objectValue else {
            throw .init(description: "handler file \(path) is not a \(isYAML ? "YAML mapping" : "JSON object")")
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        func handlers(_ key: String) throws(ConsumerConfiguration.Problem) -> [String: RunHandler] {
            var handlers: [String: RunHandler] = [:]
            for (name, entry) in document[key]?.objectValue ?? [:] {
                let place = "\(path): \(key).\(name)"
                if let command = entry["command"]?.arrayValue?.compactMap(\.stringValue), !command.isEmpty {
                    var handler = CommandHandler(command: command, directory: directory)
                    if let text = entry["timeout"]?.stringValue {
                        guard let timeout = DurationText.parse(text), timeout > .zero else {
                            throw .init(description: "\(place).timeout '\(text)' is not a duration like 30s or 5m")
                        }
                        handler.timeout = timeout
                    }
                    handler.environment = (entry["env"]?.objectValue ?? [:]).reduce(into: [:]) {
                        $0[$1.key] = $1.value.stringValue ?? $1.value.compactText
                    }
                    handlers[name] = handler.handler
                } else if let url = entry["webhook"]?.stringValue {
                    handlers[name] = WebhookHandler(url: url, signingSecret: signingSecret).handler
                } else {
                    throw .init(description: "\(place) needs \"command\": [program, args…] or \"webhook\": URL")
                }
            }
            return handlers
        }
        var changes: [String: ChangeHandler] = [:]
        for (blueprint, entry) in document["changeLog"]?.objectValue ?? [:] {
            guard let command = entry["command"]?.arrayValue?.compactMap(\.stringValue), !command.isEmpty else {
                throw .init(description: "\(path): changeLog.\(blueprint) needs \"command\": [program, args…]")
            }
            let handler = CommandHandler(command: command, directory: directory)
            let logger = Logger(label: "port-consumer.change-log")
            changes[blueprint] = { event in try await handler.run(for: event, logger: logger) }
        }
        return (try handlers("actions"), try handlers("workflowNodes"), changes)
    }

    /// A YAML document as JSON, or `nil` when it is not YAML (libyaml, through `YAMLDocument`).
    static func yamlDocument(_ text: String) -> JSONValue? {
        YAMLDocument.parse(text)
    }
}
