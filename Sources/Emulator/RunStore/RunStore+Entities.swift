import Foundation
public import PortCatalog
public import PortContract

extension RunStore.State {
    /// `run_id` on an entity write: the run must exist (404) and not be finished (400).
    func checkAcceptsEntityWrites(_ runID: String) throws(PortError) {
        guard let run = runs[runID] else { throw .runNotFound(runID) }
        if run.isLocked { throw .entityRunExhausted }
    }

    /// Ties a change to its run, when it was made with `run_id`.
    mutating func recordAffected(_ change: EntityChange, at time: Date) {
        guard let runID = change.runID, let entity = change.after ?? change.before else { return }
        runs[runID]?.affectedEntities.append(
            AffectedEntity(
                blueprint: entity.blueprint,
                identifier: entity.identifier,
                kind: change.kind,
                at: time,
                before: change.before,
                after: change.after
            )
        )
        changed(runID)
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
    ///   - mode: create, replace or merge (Port's POST, `upsert`, PUT and PATCH).
    ///   - createMissingRelated: Port's `create_missing_related_entities`.
    ///   - runID: the run the change is made for: it must exist and not be finished.
    ///   - validationOnly: check everything but store nothing (Port's `validation_only`).
    ///   - client: the client id that makes the change (`createdBy`/`updatedBy`).
    /// - Returns: the changes: related entities created for it, then the entity itself (last).
    package func writeEntity(
        _ body: EntityBody,
        identifier pathIdentifier: String? = nil,
        of model: BlueprintModel,
        models: BlueprintModels,
        mode: EntityWriteMode,
        createMissingRelated: Bool = false,
        runID: String? = nil,
        validationOnly: Bool = false,
        by client: String
    ) throws(PortError) -> [EntityChange] {
        if let pathIdentifier, let bodyIdentifier = body.identifier, bodyIdentifier != pathIdentifier {
            throw .invalidRequest(
                "body.identifier \"\(bodyIdentifier)\" differs from the path's \"\(pathIdentifier)\"; an identifier cannot change"
            )
        }
        let write = EntityWrite(
            body,
            identifier: pathIdentifier ?? body.identifier ?? PortIdentifier.make(prefix: "e_"),
            mode: mode,
            createMissingRelated: createMissingRelated,
            runID: runID,
            at: now(),
            by: client
        )
        return try withState { (state) throws(PortError) -> [EntityChange] in
            if let runID { try state.checkAcceptsEntityWrites(runID) }
            let changes = try state.entities.write(write, model: model, models: models, validationOnly: validationOnly)
            if !validationOnly {
                for change in changes { state.recordAffected(change, at: write.at) }
            }
            return changes
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
            for change in changes { state.recordAffected(change, at: timestamp) }
            return changes
        }
    }
}
