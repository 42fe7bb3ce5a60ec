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

    /// An entry as kept: its number, and its fields or what they are rendered from.
    ///
    /// A run's entry keeps the run before and after, and becomes JSON only when read: every
    /// write to a run makes one, and rendering the run twice on each was a quarter of a
    /// PATCH's time (perf, make bench).
    private struct Kept: Sendable {
        enum Source: Sendable {
            case object(JSONObject)
            case run(before: ActionRun?, after: ActionRun, orgID: String)
        }
        let sequence: Int
        let source: Source

        var object: JSONObject {
            var entry: JSONObject
            switch source {
            case .object(let object): entry = object
            case .run(let before, let after, let orgID):
                entry = AuditLog.run(before: before, after: after, orgID: orgID)
            }
            let digits = String(sequence)
            entry["identifier"] = .string("audit_" + String(repeating: "0", count: max(0, 12 - digits.count)) + digits)
            return entry
        }
    }

    private struct State {
        var entries = BoundedLog<Kept>()
        var sequence = 0
    }

    private let state = Mutex(State())

    /// Records an entry (an `identifier` is added).
    func record(_ entry: JSONObject) { keep(.object(entry)) }

    /// Records a run created (`before` nil) or changed; its fields are rendered when read.
    func recordRun(before: ActionRun?, after: ActionRun, orgID: String) {
        keep(.run(before: before, after: after, orgID: orgID))
    }

    private func keep(_ source: Kept.Source) {
        state.withLock { state in
            state.sequence += 1
            state.entries.append(Kept(sequence: state.sequence, source: source), capacity: Self.capacity)
        }
    }

    /// The entries that pass `filter`, newest first, at most `limit`.
    func entries(limit: Int, where filter: (JSONObject) -> Bool) -> [JSONObject] {
        // Rendered outside the lock: the kept entries are values.
        let kept = state.withLock { $0.entries.entries }
        return Array(kept.reversed().lazy.map(\.object).filter(filter).prefix(limit))
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
