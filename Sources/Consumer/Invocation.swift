public import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A self-service run to handle, read from any message shape Port (or its docs) uses.
public struct RunInvocation: Sendable, Equatable {
    /// The run's id (`r_…`).
    public let runID: String
    /// The action's identifier; empty when the message names none.
    public let action: String
    /// `CREATE`, `DAY-2` or `DELETE`, when the message says.
    public let operation: String?
    /// The blueprint the action works on.
    public let blueprint: String?
    /// The entity's identifier, for DAY-2 and DELETE runs.
    public let entityIdentifier: String?
    /// The whole entity, when the message carries it.
    public let entity: JSONObject?
    /// The user inputs: as the message carries them (secret ones encrypted); the
    /// `RunContext` a handler gets has them decrypted.
    public internal(set) var inputs: JSONObject
    /// The email of the user who triggered the run.
    public let user: String?
    /// The message itself (unwrapped, decoded).
    public let message: JSONValue
    /// The inputs that are secret (`encryption: "aes256-gcm"`), sorted: those the action's
    /// definition in the message marks, and those `encryptedProperties` lists.
    public internal(set) var secretInputs: [String] = []
    /// The secret inputs of type `object` (encrypted as JSON text, decrypted back to JSON).
    var objectSecretInputs: Set<String> = []
}

/// A workflow KAFKA node to handle: reported through the node-run routes.
public struct WorkflowNodeInvocation: Sendable, Equatable {
    /// The workflow run (`wfr_…`).
    public let workflowRunID: String
    /// The node run (`wfnr_…`).
    public let nodeRunID: String
    /// The workflow's identifier.
    public let workflow: String
    /// The node's identifier.
    public let node: String
    /// The rendered node payload.
    public let payload: JSONValue
}

/// What a message on `ORG_ID.runs` asks for.
public enum Invocation: Sendable, Equatable {
    /// A self-service action run.
    case run(RunInvocation)
    /// A workflow node run.
    case workflowNode(WorkflowNodeInvocation)

    /// The action (or workflow node) the invocation is for.
    public var action: String {
        switch self {
        case .run(let run): run.action
        case .workflowNode(let node): node.node
        }
    }

    /// The id progress is reported against.
    public var id: String {
        switch self {
        case .run(let run): run.runID
        case .workflowNode(let node): node.nodeRunID
        }
    }
}

/// A message that cannot be handled: skipped (and committed), never fatal.
public struct PoisonMessage: Error, Sendable, Equatable, CustomStringConvertible {
    /// Why.
    public let reason: String
    /// The reason.
    public var description: String { reason }
}

/// Reads invocations from message bytes: the legacy message, the proof of concept's shape,
/// the wrapped DAY-2 shape, base64-encoded values (as AWS Lambda delivers them), templated
/// payloads that carry `context.runId`, `run.id` or `runId`, and workflow node messages.
package enum InvocationParser {
    /// Parses a message; with `signingSecret`, a message that carries `X-Port-Signature`
    /// must be signed with it.
    package static func parse(_ bytes: [UInt8], signingSecret: String? = nil) throws(PoisonMessage) -> Invocation {
        var message = try decode(bytes)
        if let secret = signingSecret, let object = message.objectValue,
            object["headers"]?[PortSignature.signatureHeader] != nil,
            !PortSignature.isValid(object, secret: secret)
        {
            throw PoisonMessage(reason: "X-Port-Signature does not match the client secret")
        }
        if let context = message["context"], let nodeRunID = context["nodeRunId"]?.stringValue {
            return .workflowNode(
                WorkflowNodeInvocation(
                    workflowRunID: context["workflowRunId"]?.stringValue ?? "",
                    nodeRunID: nodeRunID,
                    workflow: context["workflow"]?.stringValue ?? "",
                    node: context["node"]?.stringValue ?? "",
                    payload: message["payload"] ?? [:]
                )
            )
        }
        // The wrapped DAY-2 shape of Port's guide: the whole message under one more "payload".
        if message["context"] == nil, let inner = message["payload"], inner["context"] != nil { message = inner }
        guard message.objectValue != nil else {
            throw PoisonMessage(reason: "the message is JSON but not an object (\(message.typeName))")
        }
        let context = message["context"]
        let payload = message["payload"]
        let definition = payload?["action"]
        guard
            let runID = (context?["runId"] ?? message["run"]?["id"] ?? message["runId"])?.stringValue,
            !runID.isEmpty
        else {
            throw PoisonMessage(reason: "no run id at context.runId, run.id or runId")
        }
        let action =
            message["action"]?.stringValue ?? message["action"]?["identifier"]?.stringValue
            ?? definition?["identifier"]?.stringValue ?? ""
        let operation =
            definition?["trigger"]?.stringValue ?? definition?["trigger"]?["operation"]?.stringValue
            ?? message["trigger"]?["operation"]?.stringValue
        let blueprint =
            (context?["blueprint"] ?? context?["blueprintIdentifier"] ?? definition?["blueprint"]
            ?? definition?["trigger"]?["blueprintIdentifier"] ?? message["action"]?["blueprint"])?.stringValue
        let entity = (payload?["entity"] ?? message["entity"])?.objectValue.flatMap { $0.isEmpty ? nil : $0 }
        let secrets = secretInputs(of: message, definition: definition)
        return .run(
            RunInvocation(
                runID: runID,
                action: action,
                operation: operation,
                blueprint: blueprint,
                entityIdentifier: context?["entity"]?.stringValue ?? entity?["identifier"]?.stringValue,
                entity: entity,
                inputs: (payload?["properties"] ?? message["inputs"] ?? message["properties"])?.objectValue ?? [:],
                user: message["trigger"]?["by"]?["user"]?["email"]?.stringValue,
                message: message,
                secretInputs: secrets.names,
                objectSecretInputs: secrets.objects
            )
        )
    }

    /// The secret inputs a message names: the definition's inputs with `encryption`
    /// (legacy messages carry the whole action), and any `encryptedProperties` list (the
    /// templated context's `.action.encryptedProperties`, wherever a template put it).
    private static func secretInputs(
        of message: JSONValue,
        definition: JSONValue?
    ) -> (names: [String], objects: Set<String>) {
        var names = Set<String>()
        var objects = Set<String>()
        let userInputs = definition?["userInputs"] ?? definition?["trigger"]?["userInputs"]
        for (name, schema) in userInputs?["properties"]?.objectValue ?? [:] where schema["encryption"] != nil {
            names.insert(name)
            if schema["type"] == "object" { objects.insert(name) }
        }
        for list in [message["encryptedProperties"], message["action"]?["encryptedProperties"]] {
            for name in list?.arrayValue ?? [] { if let name = name.stringValue { names.insert(name) } }
        }
        return (names.sorted(), objects)
    }

    /// JSON, or base64 of JSON (AWS Lambda's Kafka events).
    private static func decode(_ bytes: [UInt8]) throws(PoisonMessage) -> JSONValue {
        if let json = try? JSONValue.parse(bytes) {
            // A JSON string holding base64 of JSON, as some bridges wrap it.
            if case .string(let text) = json, let decoded = base64JSON(text) { return decoded }
            return json
        }
        if let decoded = base64JSON(String(decoding: bytes, as: UTF8.self)) { return decoded }
        let preview = String(decoding: bytes.prefix(60), as: UTF8.self)
        throw PoisonMessage(reason: "not JSON (nor base64 of JSON): \(preview.debugDescription)")
    }

    private static func base64JSON(_ text: String) -> JSONValue? {
        let trimmed = text.trimmingWhitespaceAndNewlines()
        guard !trimmed.isEmpty, let data = Data(base64Encoded: trimmed) else { return nil }
        return try? JSONValue.parse(Array(data))
    }
}
