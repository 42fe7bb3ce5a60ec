import PortCatalog
import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The messages Port publishes, built from a run and what it refers to (contract §5).
enum InvocationMessages {
    /// `trigger.by`: the organization and the user who triggered the run.
    static func triggeredBy(_ user: String, orgID: String, record: JSONObject? = nil) -> JSONValue {
        if let record {
            return ["orgId": .string(orgID), "userId": record["id"] ?? .string(user), "user": .object(record)]
        }
        let isEmail = user.contains("@")
        let userID = isEmail ? "emulator|\(user)" : user
        return [
            "orgId": .string(orgID),
            "userId": .string(userID),
            "user": [
                "email": isEmail ? .string(user) : .null,
                "firstName": .string(isEmail ? String(user.prefix { $0 != "@" }) : user),
                "lastName": "",
                "id": .string(userID),
            ],
        ]
    }

    /// The entity as Port puts it in messages: every field, `icon` `null` when it has none.
    static func entity(_ entity: Entity?) -> JSONValue {
        guard let entity, var object = entity.json.objectValue else { return .null }
        if object["icon"] == nil {
            var withIcon: JSONObject = [:]
            for (key, value) in object {
                withIcon[key] = value
                if key == "title" { withIcon["icon"] = .null }
            }
            object = withIcon
        }
        return .object(object)
    }

    /// The legacy (default) invocation: the whole action, entity and inputs.
    static func legacy(run: ActionRun, action: ActionDefinition, entity: Entity?, orgID: String) -> JSONObject {
        [
            "action": .string(action.identifier),
            "resourceType": "run",
            "status": "TRIGGERED",
            "trigger": [
                "by": triggeredBy(run.request.createdBy, orgID: orgID, record: run.request.user),
                "origin": .string(run.request.source.rawValue),
                "at": PortTimestamp.format(run.createdAt),
            ],
            "context": [
                "entity": entity.map { .string($0.identifier) } ?? .null,
                "blueprint": (run.request.blueprintIdentifier ?? action.blueprintIdentifier).map(JSONValue.string)
                    ?? .null,
                "runId": .string(run.id),
            ],
            "payload": [
                "entity": Self.entity(entity),
                "action": .object(action.definition),
                "properties": .object(run.request.properties),
                "censoredProperties": [],
            ],
        ]
    }

    /// The jq input a payload template is rendered against.
    static func templateContext(
        run: ActionRun,
        action: ActionDefinition,
        entity: Entity?,
        orgID: String,
        secrets: JSONObject
    ) -> JSONValue {
        [
            "inputs": .object(run.request.properties),
            "trigger": [
                "by": triggeredBy(run.request.createdBy, orgID: orgID, record: run.request.user),
                "origin": .string(run.request.source.rawValue),
                "at": PortTimestamp.format(run.createdAt),
                "operation": .string(action.operation.rawValue),
            ],
            "event": .null,
            "entity": entity.map { Self.entity($0) } ?? [:],
            "action": [
                "identifier": .string(action.identifier),
                "blueprint": action.blueprintIdentifier.map(JSONValue.string) ?? .null,
                "encryptedProperties": .array(action.inputSchema.encryptedProperties.map(JSONValue.string)),
            ],
            "run": ["id": .string(run.id)],
            "secrets": .object(secrets),
        ]
    }

    /// A change-log message: the entity before and after a write.
    static func entityChange(_ change: EntityChange, orgID: String, by client: String, at time: Date) -> JSONObject {
        let entity = change.after ?? change.before
        return [
            "action": .string(change.kind.rawValue),
            "resourceType": "entity",
            "status": "SUCCESS",
            "trigger": [
                "by": ["orgId": .string(orgID), "userId": .string(client)],
                "origin": "API",
                "at": PortTimestamp.format(time),
            ],
            "context": [
                "entity": entity.map { .string($0.identifier) } ?? .null,
                "blueprint": entity.map { .string($0.blueprint) } ?? .null,
                "runId": change.runID.map(JSONValue.string) ?? .null,
            ],
            "diff": ["before": Self.entity(change.before), "after": Self.entity(change.after)],
        ]
    }
}
