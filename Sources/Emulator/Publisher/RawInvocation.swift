import PortContract

/// A message published as it is (`fixtures/invocations/*.json`): Port's shapes from its
/// docs, plain or wrapped in one more `payload` key, which consumers should tolerate.
enum RawInvocation {
    /// The message's run id: `context.runId`, or `payload.context.runId` when wrapped.
    static func runID(of message: JSONValue) -> String? {
        (message["context"]?["runId"] ?? message["payload"]?["context"]?["runId"])?.stringValue
    }

    /// The run the message stands for, so the consumer's reports about it are accepted.
    static func newRun(for message: JSONValue) -> NewRun {
        let body = message["context"] != nil ? message : (message["payload"] ?? message)
        let action = body["action"]?.stringValue ?? body["payload"]?["action"]?["identifier"]?.stringValue ?? "unknown"
        let context = body["context"]
        let blueprint = (context?["blueprint"] ?? context?["blueprintIdentifier"])?.stringValue
        let user = body["trigger"]?["by"]?["user"]?["email"]?.stringValue
        return NewRun(
            action: RunActionInfo(identifier: action),
            blueprintIdentifier: blueprint,
            entityIdentifier: context?["entity"]?.stringValue,
            properties: body["payload"]?["properties"]?.objectValue ?? [:],
            source: body["trigger"]?["origin"]?.stringValue.flatMap(RunSource.init(rawValue:)) ?? .ui,
            createdBy: user ?? "emulator-user@example.com"
        )
    }
}
