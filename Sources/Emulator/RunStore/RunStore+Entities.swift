public import PortCatalog
public import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension RunStore.State {
    /// `run_id` on an entity write: the run must exist (404) and not be finished (400).
    func checkAcceptsEntityWrites(_ runID: String) throws(PortError) {
        guard let run = runs[runID] else { throw .runNotFound(runID) }
        if run.isLocked { throw .entityRunExhausted }
    }

    /// Checks and (unless `validationOnly`) stores one write, tying its changes to its run.
    mutating func apply(
        _ write: EntityWrite,
        model: BlueprintModel,
        models: BlueprintModels,
        validationOnly: Bool
    ) throws(PortError) -> [EntityChange] {
        let changes = try entities.write(write, model: model, models: models, validationOnly: validationOnly)
        if !validationOnly { committed(changes, at: write.at) }
        return changes
    }

    /// Records changes made to the entities (for `--state-dir`), and ties each to its run.
    mutating func committed(_ changes: [EntityChange], at time: Date) {
        for change in changes {
            recordEntity(change.after, before: change.before)
            recordAffected(change, at: time)
        }
    }

    /// Records an entity as it now is (`nil`: deleted) in the state log.
    func recordEntity(_ entity: Entity?, before: Entity?) {
        if let entity {
            stateLog.record(.runs, "ent", ["entity": entity.stateJSON])
        } else if let before {
            stateLog.record(
                .runs,
                "ent-",
                ["blueprint": .string(before.blueprint), "identifier": .string(before.identifier)]
            )
        }
    }

    /// Ties a change to its run, when it was made with `run_id`.
    mutating func recordAffected(_ change: EntityChange, at time: Date) {
        guard let runID = change.runID, let entity = change.after ?? change.before else { return }
        let affected = AffectedEntity(
            blueprint: entity.blueprint,
            identifier: entity.identifier,
            kind: change.kind,
            at: time,
            before: change.before,
            after: change.after
        )
        runs[runID]?.affectedEntities.append(affected)
        changed(runID)
        stateLog.record(.runs, "aff", ["run": .string(runID), "affected": affected.stateJSON])
    }
}

extension RunStore {
    /// The entity, or 404 `not_found`.
    public func entity(_ identifier: String, of blueprint: String) throws(PortError) -> Entity {
        guard let entity = withState({ $0.entities.entity(identifier, of: blueprint) }) else {
            throw .entityNotFound(identifier, blueprint: blueprint)
        }
        return entity
    }

    /// The blueprint's entities, oldest first.
    public func entities(of blueprint: String) -> [Entity] {
        withState { Array($0.entities.entities(of: blueprint)) }
    }

    /// A copy of every entity, to search without holding the store's lock. A write made
    /// while a copy is held copies the tables of the blueprint it writes: prefer
    /// `readEntities` for short reads.
    public var entityStore: EntityStore { withState { $0.entities } }

    /// Runs `body` on the entities under the store's lock: for short reads (one entity and
    /// its computed properties), which then leave no copy behind for writers to pay for.
    public func readEntities<Result, Failure: Error>(
        _ body: (EntityStore) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try withState { (state) throws(Failure) in try body(state.entities) }
    }

    /// Creates, replaces or merges an entity, checked against its blueprint's schema and
    /// relations (the catalog's rules: `EntityStore.write`).
    ///
    /// - Parameters:
    ///   - body: the entity as the request gives it.
    ///   - pathIdentifier: the path's identifier (PUT and PATCH); POST takes the body's, or makes one.
    ///   - model: the blueprint, with its relations.
    ///   - models: every blueprint, for relation targets.
    ///   - options: how the write applies (mode, Port's query flags, who and from where).
    /// - Returns: the changes: related entities created for it, then the entity itself (last).
    package func writeEntity(
        _ body: EntityBody,
        identifier pathIdentifier: String? = nil,
        of model: BlueprintModel,
        models: BlueprintModels,
        options: EntityWriteOptions
    ) throws(PortError) -> [EntityChange] {
        let write = try options.write(body, pathIdentifier: pathIdentifier, at: now())
        return try withState { (state) throws(PortError) -> [EntityChange] in
            if let runID = options.runID { try state.checkAcceptsEntityWrites(runID) }
            return try state.apply(write, model: model, models: models, validationOnly: options.validationOnly)
        }
    }

    /// Writes several entities of one blueprint under one lock, each on its own: one that
    /// fails leaves the others written (Port's bulk upsert). Returns each body's outcome, in order.
    package func writeEntities(
        _ bodies: [EntityBody],
        of model: BlueprintModel,
        models: BlueprintModels,
        options: EntityWriteOptions
    ) throws(PortError) -> [Result<[EntityChange], PortError>] {
        let time = now()
        return try withState { (state) throws(PortError) -> [Result<[EntityChange], PortError>] in
            if let runID = options.runID { try state.checkAcceptsEntityWrites(runID) }
            return bodies.map { body in
                Result { () throws(PortError) -> [EntityChange] in
                    let write = try options.write(body, pathIdentifier: nil, at: time)
                    return try state.apply(write, model: model, models: models, validationOnly: options.validationOnly)
                }
            }
        }
    }

    /// Deletes an entity (404 when there is none); entities whose required relations point
    /// at it are 403 `has_dependents`, or deleted too with `deleteDependents`. `runID` ties
    /// every deletion to a run. Returns the deletions, dependents first.
    package func deleteEntity(
        _ identifier: String,
        of blueprint: String,
        models: BlueprintModels,
        deleteDependents: Bool = false,
        runID: String? = nil,
        by client: String
    ) throws(PortError) -> [EntityChange] {
        let timestamp = now()
        return try withState { (state) throws(PortError) -> [EntityChange] in
            if let runID { try state.checkAcceptsEntityWrites(runID) }
            let changes = try state.entities.delete(
                EntityKey(blueprint: blueprint, identifier: identifier),
                models: models,
                deleteDependents: deleteDependents,
                runID: runID
            )
            state.committed(changes, at: timestamp)
            return changes
        }
    }
}

/// How an entity write applies: Port's mode and query flags, who makes it and from where.
package struct EntityWriteOptions: Sendable {
    /// Create, replace or merge (Port's POST, `upsert`, PUT and PATCH).
    var mode: EntityWriteMode
    /// Port's `create_missing_related_entities`.
    var createMissingRelated = false
    /// The run the change is made for (`run_id`): it must exist and not be finished.
    var runID: String?
    /// Check everything but store nothing (Port's `validation_only`).
    var validationOnly = false
    /// The client id that makes the change (`createdBy`/`updatedBy`).
    var client: String
    /// The request's `User-Agent`: the entity's `$datasource`.
    var datasource: String?
    /// The organization's teams, when it has any: an entity's `team` must name them.
    var knownTeams: Set<String>?

    package init(
        mode: EntityWriteMode,
        createMissingRelated: Bool = false,
        runID: String? = nil,
        validationOnly: Bool = false,
        client: String,
        datasource: String? = nil
    ) {
        self.mode = mode
        self.createMissingRelated = createMissingRelated
        self.runID = runID
        self.validationOnly = validationOnly
        self.client = client
        self.datasource = datasource
    }

    /// The write of `body`: its identifier is the path's (which the body's must equal), the
    /// body's, or one made up.
    func write(_ body: EntityBody, pathIdentifier: String?, at time: Date) throws(PortError) -> EntityWrite {
        if let pathIdentifier, let bodyIdentifier = body.identifier, bodyIdentifier != pathIdentifier {
            throw .invalidRequest(
                "body.identifier \"\(bodyIdentifier)\" differs from the path's \"\(pathIdentifier)\"; an identifier cannot change"
            )
        }
        var write = EntityWrite(
            body,
            identifier: pathIdentifier ?? body.identifier ?? PortIdentifier.make(prefix: "e_"),
            mode: mode,
            createMissingRelated: createMissingRelated,
            runID: runID,
            at: time,
            by: client,
            datasource: datasource
        )
        write.knownTeams = knownTeams
        return write
    }
}

extension RunStore {
    /// Deletes the named entities of one blueprint, in order, all or none: a name with no
    /// entity is skipped; one whose dependents stay (without `deleteDependents`) is 403
    /// `has_dependents` and nothing is deleted. Returns the deletions, dependents included.
    package func deleteEntities(
        _ identifiers: [String],
        of blueprint: String,
        models: BlueprintModels,
        deleteDependents: Bool,
        runID: String?
    ) throws(PortError) -> [EntityChange] {
        let timestamp = now()
        return try withState { (state) throws(PortError) -> [EntityChange] in
            if let runID { try state.checkAcceptsEntityWrites(runID) }
            var entities = state.entities
            var changes: [EntityChange] = []
            for identifier in identifiers {
                let key = EntityKey(blueprint: blueprint, identifier: identifier)
                guard entities.entity(key) != nil else { continue }
                changes += try entities.delete(key, models: models, deleteDependents: deleteDependents, runID: runID)
            }
            state.entities = entities
            state.committed(changes, at: timestamp)
            return changes
        }
    }

    /// Deletes every entity of the blueprint, all or none: entities of other blueprints
    /// that require one of them make it 403 `has_dependents`. Returns the deletions.
    package func deleteAllEntities(
        of blueprint: String,
        models: BlueprintModels,
        runID: String?
    ) throws(PortError) -> [EntityChange] {
        let timestamp = now()
        return try withState { (state) throws(PortError) -> [EntityChange] in
            if let runID { try state.checkAcceptsEntityWrites(runID) }
            var entities = state.entities
            var changes: [EntityChange] = []
            for identifier in entities.entities(of: blueprint).map(\.identifier).reversed() {
                let key = EntityKey(blueprint: blueprint, identifier: identifier)
                guard entities.entity(key) != nil else { continue }
                changes += try entities.delete(key, models: models, deleteDependents: true, runID: runID)
            }
            let outside = changes.compactMap(\.before).filter { $0.blueprint != blueprint }
            guard outside.isEmpty else {
                throw PortError(
                    status: 403,
                    code: "has_dependents",
                    message: "Entities of other blueprints require entities of \"\(blueprint)\": "
                        + outside.map { "\($0.blueprint)/\($0.identifier)" }.sorted().joined(separator: ", "),
                    rule: "no-dependents-on-delete"
                )
            }
            state.entities = entities
            state.committed(changes, at: timestamp)
            return changes
        }
    }
}

extension RunStore {
    /// Starts the catalog with the fixtures' entities (and goes back to them on reset),
    /// each checked as a write is. Entities may relate in any order; a relation to an entity
    /// no fixture defines is an error naming both.
    package func seed(_ entities: [JSONValue], models: BlueprintModels, teams: Set<String>?) throws(FixtureError) {
        var store = EntityStore()
        let time = now()
        var defined: Set<EntityKey> = []
        var placeholders: [EntityKey: EntityKey] = [:]
        for value in entities {
            let blueprint = value["blueprint"]?.stringValue ?? ""
            let file = "entities/\(blueprint).json"
            guard let model = models[blueprint] else {
                throw FixtureError(file: file, reason: "blueprint \"\(blueprint)\" is not in the fixtures")
            }
            do throws(PortError) {
                let body = try EntityBody(body: value)
                guard let identifier = body.identifier else { throw PortError.invalidRequest("identifier is required") }
                var write = EntityWrite(
                    body,
                    identifier: identifier,
                    mode: .create(upsert: true, merge: false),
                    createMissingRelated: true,
                    at: time,
                    by: Catalog.fixtureAuthor
                )
                write.knownTeams = teams
                let key = EntityKey(blueprint: blueprint, identifier: identifier)
                defined.insert(key)
                for change in try store.write(write, model: model, models: models) where change.before == nil {
                    if let created = change.after, created.identifier != identifier || created.blueprint != blueprint {
                        placeholders[EntityKey(blueprint: created.blueprint, identifier: created.identifier)] = key
                    }
                }
            } catch {
                throw FixtureError(file: file, reason: "\(error.message)")
            }
        }
        if let (missing, by) = placeholders.first(where: { !defined.contains($0.key) }) {
            throw FixtureError(
                file: "entities/\(by.blueprint).json",
                reason:
                    "\"\(by.identifier)\" relates to \(missing.blueprint)/\(missing.identifier), which no entity fixture defines"
            )
        }
        withState { state in
            state.seed = store
            state.entities = store
        }
    }
}

extension RunStore {
    /// What a blueprint rename moves in stored entities.
    package enum RenamedMember: Sendable { case property, relation }

    /// Moves each entity's value of `old` to `new` after its blueprint renamed a property or
    /// a relation (links follow a relation's new name). No change is recorded: the entities
    /// hold the same values.
    package func rename(
        _ member: RenamedMember,
        _ old: String,
        to new: String,
        of blueprint: String,
        from oldModel: BlueprintModel?,
        to newModel: BlueprintModel?
    ) {
        withState { state in
            for entity in Array(state.entities.entities(of: blueprint)) {
                var moved = entity
                switch member {
                case .property:
                    guard let value = moved.properties[old] else { continue }
                    moved.properties[old] = nil
                    moved.properties[new] = value
                case .relation:
                    guard let value = moved.relations[old] else { continue }
                    moved.relations[old] = nil
                    moved.relations[new] = value
                }
                state.entities.replace(moved, from: oldModel, to: newModel)
                state.recordEntity(moved, before: entity)
            }
        }
    }
}
