import Foundation
public import PortContract

extension RunStore.State {
    /// `run_id` on an entity write: the run must exist (404) and not be finished (400).
    func checkAcceptsEntityWrites(_ runID: String) throws(PortError) {
        guard let run = runs[runID] else { throw .runNotFound(runID) }
        if run.isLocked { throw .entityRunExhausted }
    }

    /// Ties a change to its run, when it was made with `run_id`.
    mutating func recordAffected(_ change: EntityChange, blueprint: String, identifier: String, at time: Date) {
        guard let runID = change.runID else { return }
        runs[runID]?.affectedEntities.append(
            AffectedEntity(
                blueprint: blueprint,
                identifier: identifier,
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
        guard let entity = withState({ $0.entities[blueprint]?[identifier] }) else {
            throw .entityNotFound(identifier, blueprint: blueprint)
        }
        return entity
    }

    /// The blueprint's entities, oldest first.
    public func entities(of blueprint: String) -> [Entity] {
        let entities = withState { $0.entities[blueprint].map { Array($0.values) } ?? [] }
        return entities.sorted { ($0.createdAt, $0.identifier) < ($1.createdAt, $1.identifier) }
    }

    /// Creates, replaces or merges an entity of `blueprint`, checked against its schema.
    ///
    /// - Parameters:
    ///   - body: the entity as the request gives it.
    ///   - pathIdentifier: the path's identifier (PUT and PATCH); POST takes the body's, or makes one.
    ///   - blueprint: the blueprint whose schema the properties must follow.
    ///   - mode: create, replace or merge (Port's POST, `upsert`, PUT and PATCH).
    ///   - runID: the run the change is made for: it must exist and not be finished.
    ///   - validationOnly: check everything but store nothing (Port's `validation_only`).
    ///   - client: the client id that makes the change (`createdBy`/`updatedBy`).
    /// - Returns: the entity before and after the change.
    package func writeEntity(
        _ body: EntityBody,
        identifier pathIdentifier: String? = nil,
        of blueprint: Blueprint,
        mode: EntityWriteMode,
        runID: String? = nil,
        validationOnly: Bool = false,
        by client: String
    ) throws(PortError) -> EntityChange {
        if let pathIdentifier, let bodyIdentifier = body.identifier, bodyIdentifier != pathIdentifier {
            throw .invalidRequest(
                "body.identifier \"\(bodyIdentifier)\" differs from the path's \"\(pathIdentifier)\"; an identifier cannot change"
            )
        }
        let identifier = pathIdentifier ?? body.identifier ?? PortIdentifier.make(prefix: "e_")
        let timestamp = now()
        return try withState { (state) throws(PortError) -> EntityChange in
            if let runID { try state.checkAcceptsEntityWrites(runID) }
            let existing = state.entities[blueprint.identifier]?[identifier]
            let fresh = Entity(
                identifier: identifier,
                blueprint: blueprint.identifier,
                title: body.title ?? existing?.title ?? identifier,
                icon: body.icon,
                team: body.team ?? [],
                properties: body.properties ?? [:],
                relations: body.relations ?? [:],
                createdAt: existing?.createdAt ?? timestamp,
                createdBy: existing?.createdBy ?? client,
                updatedAt: timestamp,
                updatedBy: client
            )
            let next: Entity
            switch (mode, existing) {
            case (.create, nil): next = fresh
            case (.create(upsert: false, _), _?): throw .identifierTaken(identifier, blueprint: blueprint.identifier)
            case (.create(upsert: true, merge: false), _?), (.replace, _?): next = fresh
            case (.create(upsert: true, merge: true), let current?), (.merge, let current?):
                next = current.merged(with: body, at: timestamp, by: client)
            case (.replace, nil), (.merge, nil): throw .entityNotFound(identifier, blueprint: blueprint.identifier)
            }
            let problems = blueprint.violations(of: next)
            guard problems.isEmpty else { throw .blueprintSchemaMismatch(problems, blueprint: blueprint.identifier) }
            let change = EntityChange(
                kind: existing == nil ? .create : .update,
                before: existing,
                after: next,
                runID: runID
            )
            guard !validationOnly else { return change }
            state.entities[blueprint.identifier, default: [:]][identifier] = next
            state.recordAffected(change, blueprint: blueprint.identifier, identifier: identifier, at: timestamp)
            return change
        }
    }

    /// Deletes an entity (404 when there is none); `runID` ties the deletion to a run.
    package func deleteEntity(
        _ identifier: String,
        of blueprint: String,
        runID: String? = nil,
        by client: String
    ) throws(PortError) -> EntityChange {
        let timestamp = now()
        return try withState { (state) throws(PortError) -> EntityChange in
            if let runID { try state.checkAcceptsEntityWrites(runID) }
            guard let existing = state.entities[blueprint]?.removeValue(forKey: identifier) else {
                throw .entityNotFound(identifier, blueprint: blueprint)
            }
            let change = EntityChange(kind: .delete, before: existing, after: nil, runID: runID)
            state.recordAffected(change, blueprint: blueprint, identifier: identifier, at: timestamp)
            return change
        }
    }
}

extension Entity {
    /// This entity with the body's fields merged in: properties and relations key by key.
    fileprivate func merged(with body: EntityBody, at time: Date, by client: String) -> Entity {
        var next = self
        next.title = body.title ?? title
        next.icon = body.icon ?? icon
        next.team = body.team ?? team
        for (key, value) in body.properties ?? [:] { next.properties[key] = value }
        for (key, value) in body.relations ?? [:] { next.relations[key] = value }
        next.updatedAt = time
        next.updatedBy = client
        return next
    }
}

extension Blueprint {
    /// What is wrong with the entity under this blueprint: its properties against the
    /// schema, and relations the blueprint does not define.
    func violations(of entity: Entity) -> [String] {
        schema.violations(of: entity.properties)
            + entity.relations.keys.filter { !relationIdentifiers.contains($0) }.map {
                "relations.\($0) is not a relation of the blueprint"
            }
    }
}
