import PortCatalog
import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The event objects automations' conditions and templates see (contract §7).
///
/// **Emulator choices**, in this one place: entity events name their action `CREATE`,
/// `UPDATE` or `DELETE` (Port's docs show only `UPDATE`) and `TIMER_EXPIRED` for a timer;
/// a timer's diff has the entity on both sides; run events are `CREATE` or `UPDATE`.
enum AutomationEvents {
    /// An entity created, changed or deleted by `client`.
    static func entity(_ change: EntityChange, by client: String, orgID: String, at time: Date) -> JSONValue {
        let entity = change.after ?? change.before
        return [
            "action": .string(change.kind.rawValue),
            "resourceType": "entity",
            "trigger": [
                "by": InvocationMessages.triggeredBy(client, orgID: orgID),
                "origin": "API",
                "at": PortTimestamp.format(time),
            ],
            "context": [
                "blueprintIdentifier": entity.map { .string($0.blueprint) } ?? .null,
                "entityIdentifier": entity.map { .string($0.identifier) } ?? .null,
                "propertyIdentifier": .null,
            ],
            "diff": [
                "before": InvocationMessages.entity(change.before), "after": InvocationMessages.entity(change.after),
            ],
        ]
    }

    /// The `by` of what Port does itself (a timer expiring).
    static func byPort(orgID: String) -> JSONValue { ["byPort": true, "orgId": .string(orgID)] }

    /// A timer property of `entity` that passed at `time` (the emulator's clock).
    static func timerExpired(_ entity: Entity, property: String, orgID: String, at time: Date) -> JSONValue {
        [
            "action": "TIMER_EXPIRED",
            "resourceType": "entity",
            "trigger": ["by": byPort(orgID: orgID), "origin": "API", "at": PortTimestamp.format(time)],
            "context": [
                "blueprintIdentifier": .string(entity.blueprint),
                "entityIdentifier": .string(entity.identifier),
                "propertyIdentifier": .string(property),
            ],
            "diff": ["before": InvocationMessages.entity(entity), "after": InvocationMessages.entity(entity)],
        ]
    }

    /// The change-log message of an expired timer (contract §7).
    static func timerChangeLog(_ entity: Entity, orgID: String, at time: Date) -> JSONObject {
        [
            "action": "TIMER_EXPIRED",
            "resourceType": "entity",
            "status": "SUCCESS",
            "context": ["blueprint": .string(entity.blueprint), "entity": .string(entity.identifier)],
            "trigger": ["at": PortTimestamp.format(time), "by": byPort(orgID: orgID), "origin": "API"],
        ]
    }

    /// A run created (`before` nil) or updated, with the definition of its action.
    static func run(before: ActionRun?, after: ActionRun, definition: JSONValue, orgID: String) -> JSONValue {
        [
            "id": .string(PortIdentifier.make(prefix: "event_")),
            "resourceType": "run",
            "action": before == nil ? "CREATE" : "UPDATE",
            "trigger": [
                "by": InvocationMessages.triggeredBy(
                    before == nil ? after.request.createdBy : after.updatedBy,
                    orgID: orgID
                ),
                "origin": .string(after.request.source.rawValue),
                "at": PortTimestamp.format(after.updatedAt),
            ],
            "context": ["action": definition],
            "diff": ["before": before?.json(.v2) ?? .null, "after": after.json(.v2)],
        ]
    }

    /// Whether a change of a run is an update automations see: its status, label, links
    /// or summary changed (a log alone, a response or a delivery note is not).
    static func isUpdate(from before: ActionRun, to after: ActionRun) -> Bool {
        before.status != after.status || before.statusLabel != after.statusLabel || before.links != after.links
            || before.summary != after.summary
    }
}
