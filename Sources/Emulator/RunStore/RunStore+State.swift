import DequeModule
import OrderedCollections
package import PortCatalog
package import PortContract
import StateLog

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension RunStore {
    /// The store's entities and runs being rebuilt from a state's records (`--state-dir`),
    /// starting from the fixtures' entities. Entities are put in their final order once the
    /// catalog's blueprints are known (``RunStore/restore(_:models:)``).
    package struct Restoring: Sendable {
        var entities: OrderedDictionary<EntityKey, Entity>
        var runs: [String: ActionRun] = [:]
        var order: [String] = []
        var logs: [String: [RunLog]] = [:]
        var evicted = 0
        let seed: [Entity]

        init(seed: [Entity]) {
            self.seed = seed
            entities = OrderedDictionary(uniqueKeysWithValues: seed.map { (EntityKey($0), $0) })
        }

        /// Applies one record of the store.
        package mutating func apply(_ kind: String, _ fields: JSONObject) throws(StateCodecError) {
            let record = try StateFields(.object(fields), "")
            switch kind {
            case "ent":
                let entity = try record.nested("entity", Entity.self)
                entities[EntityKey(entity)] = entity
            case "ent-":
                entities[
                    EntityKey(blueprint: try record.string("blueprint"), identifier: try record.string("identifier"))
                ] =
                    nil
            case "ent-all":
                entities = [:]
            case "run":
                var run = try record.nested("run", ActionRun.self)
                if let previous = runs[run.id] {
                    run.affectedEntities = previous.affectedEntities
                } else {
                    order.append(run.id)
                    logs[run.id] = logs[run.id] ?? []
                }
                runs[run.id] = run
            case "aff":
                let id = try record.string("run")
                runs[id]?.affectedEntities.append(try record.nested("affected", AffectedEntity.self))
                runs[id]?.version += 1
            case "affs":
                // A snapshot's: the run's version already counts them.
                guard case .array(let items) = record.value("affected") else {
                    throw record.error("affected", "not a list")
                }
                var affected: [AffectedEntity] = []
                for item in items { affected.append(try AffectedEntity(state: item)) }
                runs[try record.string("run")]?.affectedEntities = affected
            case "log":
                let log = try record.nested("log", RunLog.self)
                logs[log.runId, default: []].append(log)
            case "run-":
                let id = try record.string("id")
                if runs.removeValue(forKey: id) != nil {
                    logs[id] = nil
                    evicted += 1
                }
            case "evicted":
                evicted = try record.int("count")
            case StateRecords.reset:
                self = Restoring(seed: seed)
            default:
                throw StateCodecError(field: "k", reason: "\"\(kind)\" is not a kind of the runs' records")
            }
        }
    }

    /// A start for rebuilding the store from a state's records: the fixtures' entities.
    package func restoring() -> Restoring {
        Restoring(seed: withState { $0.seed.inCreationOrder })
    }

    /// Replaces the store's entities and runs with those rebuilt, the entities indexed by
    /// the catalog's blueprints `models`. Records nothing.
    package func restore(_ restored: Restoring, models: BlueprintModels) {
        var entities = EntityStore()
        for entity in restored.entities.values { entities.put(entity, model: models[entity.blueprint]) }
        let order = restored.order.filter { restored.runs[$0] != nil }
        // The eviction order is the order runs finished.
        let finished = order.compactMap { restored.runs[$0] }.filter(\.isLocked)
            .enumerated()
            .sorted {
                ($0.element.endedAt ?? .distantPast, $0.offset) < ($1.element.endedAt ?? .distantPast, $1.offset)
            }
            .map(\.element.id)
        withState { state in
            state.entities = entities
            state.runs = restored.runs
            state.order = order
            state.staleInOrder = []
            state.logs = restored.logs.filter { restored.runs[$0.key] != nil }
            state.finished = Deque(finished)
            state.evictedRuns = restored.evicted
        }
    }

    /// A copy of the store's entities and runs as records, and the last log record the copy
    /// includes: the store's part of a snapshot.
    package func stateSection() -> StateSection {
        let (copy, fence) = withState { ($0, $0.stateLog.fence) }
        var records: [[UInt8]] = []
        records.reserveCapacity(copy.entities.count + copy.runs.count * 2 + 1)
        // Every entity, in creation order, in place of the fixtures' (deleted ones stay deleted).
        records.append(StateRecords.payload(.runs, "ent-all", [:]))
        for entity in copy.entities.inCreationOrder {
            records.append(StateRecords.payload(.runs, "ent", ["entity": entity.stateJSON]))
        }
        for id in copy.order {
            guard let run = copy.runs[id] else { continue }
            records.append(StateRecords.payload(.runs, "run", ["run": run.stateJSON]))
            if !run.affectedEntities.isEmpty {
                records.append(
                    StateRecords.payload(
                        .runs,
                        "affs",
                        ["run": .string(id), "affected": .array(run.affectedEntities.map(\.stateJSON))]
                    )
                )
            }
            for log in copy.logs[id] ?? [] {
                records.append(StateRecords.payload(.runs, "log", ["log": log.stateJSON]))
            }
        }
        records.append(StateRecords.payload(.runs, "evicted", ["count": .int(Int64(copy.evictedRuns))]))
        return StateSection(store: .runs, fence: fence, records: records)
    }
}

extension EntityKey {
    init(_ entity: Entity) { self.init(blueprint: entity.blueprint, identifier: entity.identifier) }
}
