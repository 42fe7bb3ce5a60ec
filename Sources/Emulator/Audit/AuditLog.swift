import PortContract
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Port's audit log (`GET /v1/audit-log`), built from what the emulator records: every
/// entity change (the change-log message's fields), every run created or changed, and every
/// successful write of Port's API to blueprints, actions, scorecards and integrations.
///
/// **Emulator choices** (`fixtures/README.md`): entries are `{identifier, action,
/// resourceType, status, trigger, context, diff, additionalData, message}`, newest first,
/// under `audits`; the last ``capacity`` entries are kept; `limit` defaults to 100 and may
/// be up to 10,000; `from`/`to` compare `trigger.at`; a filter on a field an entry does not
/// have excludes it; `includes` keeps only the named fields.
final class AuditLog: Sendable {
    /// How many entries are kept: as many as one request may read (`limit` ≤ 10,000). An
    /// entry holds the run or entity before and after, a few KiB: 100,000 of them held
    /// about 900 MB (make bench-memory).
    static let capacity = 10_000

    private struct State {
        var entries = BoundedLog<JSONObject>()
        var sequence = 0
    }

    private let state = Mutex(State())

    /// Records an entry (an `identifier` is added).
    func record(_ entry: JSONObject) {
        state.withLock { state in
            state.sequence += 1
            var entry = entry
            entry["identifier"] = .string(cFormat("audit_%012d", state.sequence))
            state.entries.append(entry, capacity: Self.capacity)
        }
    }

    /// The entries that pass `filter`, newest first, at most `limit`.
    func entries(limit: Int, where filter: (JSONObject) -> Bool) -> [JSONObject] {
        state.withLock { state in Array(state.entries.entries.reversed().lazy.filter(filter).prefix(limit)) }
    }

    /// Forgets everything (`POST /_emulator/reset`).
    func reset() { state.withLock { $0 = State() } }

    /// An entry for a run created (`before` nil) or changed.
    static func run(before: ActionRun?, after: ActionRun, orgID: String) -> JSONObject {
        [
            "action": before == nil ? "CREATE" : "UPDATE", "resourceType": "run", "status": "SUCCESS",
            "trigger": [
                "by": ["orgId": .string(orgID), "userId": .string(after.updatedBy)],
                "origin": .string(after.request.source.rawValue), "at": PortTimestamp.format(after.updatedAt),
                "actionType": after.request.automationEvent == nil ? "self-service" : "automation",
            ],
            "context": [
                "runId": .string(after.id), "action": .string(after.request.action.identifier),
                "blueprint": after.request.blueprintIdentifier.map(JSONValue.string) ?? .null,
                "entity": after.request.entityIdentifier.map(JSONValue.string) ?? .null,
            ],
            "diff": ["before": before.map { $0.json(.v2) } ?? .null, "after": after.json(.v2)],
            "additionalData": [:],
            "message": .string(
                before == nil
                    ? "Run \(after.id) of \(after.request.action.identifier) created"
                    : "Run \(after.id) is \(after.status.rawValue)"
            ),
        ]
    }
}
