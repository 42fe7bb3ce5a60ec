public import PortContract

#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// The blueprints the catalog knows, by identifier, as the store reads them.
public typealias BlueprintModels = [String: BlueprintModel]

/// One entity write: what it is, and Port's query flags that change how it is applied.
public struct EntityWrite: Sendable {
    /// The body.
    public var body: EntityBody
    /// The entity's identifier (the path's, the body's, or one made up).
    public var identifier: String
    /// Create, replace or merge.
    public var mode: EntityWriteMode
    /// `create_missing_related_entities`: a missing related entity is created with its
    /// identifier only, instead of a 404.
    public var createMissingRelated = false
    /// The run the write is made for (`run_id`), recorded on each change.
    public var runID: String?
    /// When, and by whom.
    public var at: Date
    /// The client id.
    public var by: String
    /// Where the write came from (the request's `User-Agent`), added to `datasources`.
    public var datasource: String?
    /// The organization's teams, when it has any: then `team` must name them (404).
    public var knownTeams: Set<String>?

    /// Creates a write.
    public init(
        _ body: EntityBody,
        identifier: String,
        mode: EntityWriteMode,
        createMissingRelated: Bool = false,
        runID: String? = nil,
        at: Date,
        by: String,
        datasource: String? = nil
    ) {
        self.body = body
        self.identifier = identifier
        self.mode = mode
        self.createMissingRelated = createMissingRelated
        self.runID = runID
        self.at = at
        self.by = by
        self.datasource = datasource
    }
}

extension EntityStore {
    /// Checks a write against the blueprint's schema and relations and, unless
    /// `validationOnly`, applies it. Returns the changes in the order they happen: related
    /// entities created for it (with `createMissingRelated`), then the entity itself.
    public mutating func write(
        _ write: EntityWrite,
        model: BlueprintModel,
        models: BlueprintModels,
        validationOnly: Bool = false
    ) throws(PortError) -> [EntityChange] {
        let blueprint = model.identifier
        let existing = entity(write.identifier, of: blueprint)
        let fresh = Entity(
            identifier: write.identifier,
            blueprint: blueprint,
            title: write.body.title ?? existing?.title ?? write.identifier,
            icon: write.body.icon,
            team: write.body.team ?? [],
            properties: write.body.properties ?? [:],
            relations: write.body.relations ?? [:],
            createdAt: existing?.createdAt ?? write.at,
            createdBy: existing?.createdBy ?? write.by,
            updatedAt: write.at,
            updatedBy: write.by
        )
        var next: Entity
        switch (write.mode, existing) {
        case (.create, nil): next = fresh
        case (.create(upsert: false, _), _?): throw .identifierTaken(write.identifier, blueprint: blueprint)
        case (.create(upsert: true, merge: false), _?), (.replace, _?): next = fresh
        case (.create(upsert: true, merge: true), let current?), (.merge, let current?):
            next = current.merged(with: write.body, at: write.at, by: write.by)
        case (.replace, nil), (.merge, nil): throw .entityNotFound(write.identifier, blueprint: blueprint)
        }
        next.datasources = existing?.datasources ?? []
        if let source = write.datasource, !next.datasources.contains(source) { next.datasources.append(source) }
        let problems =
            model.blueprint.schema.violations(of: next.properties)
            + next.relations.keys.filter { model.relations[$0] == nil }.map {
                "relations.\($0) is not a relation of the blueprint"
            }
        guard problems.isEmpty else { throw .blueprintSchemaMismatch(problems, blueprint: blueprint) }
        if let teams = write.knownTeams {
            if let unknown = next.teamNames.first(where: { !teams.contains($0) }) {
                throw PortError(
                    status: 404,
                    code: "not_found",
                    message: "Team \"\(unknown)\" of entity \"\(write.identifier)\" was not found",
                    rule: "team-exists"
                )
            }
        }
        let missing = try missingTargets(of: next, model: model, models: models)
        guard missing.isEmpty || write.createMissingRelated else {
            let (relation, key) = missing[0]
            throw .relatedEntityNotFound(key.identifier, blueprint: key.blueprint, relation: relation)
        }
        var changes = missing.map { (_, key) in
            EntityChange(
                kind: .create,
                before: nil,
                after: Entity(
                    identifier: key.identifier,
                    blueprint: key.blueprint,
                    title: key.identifier,
                    createdAt: write.at,
                    createdBy: write.by,
                    updatedAt: write.at,
                    updatedBy: write.by,
                    datasources: write.datasource.map { [$0] } ?? []
                ),
                runID: write.runID
            )
        }
        changes.append(
            EntityChange(kind: existing == nil ? .create : .update, before: existing, after: next, runID: write.runID)
        )
        guard !validationOnly else { return changes }
        for change in changes {
            if let entity = change.after { put(entity, model: models[entity.blueprint]) }
        }
        return changes
    }

    /// The relation targets `entity` names that do not exist (each once, in relation order),
    /// after checking `required` and `many`.
    private func missingTargets(
        of entity: Entity,
        model: BlueprintModel,
        models: BlueprintModels
    ) throws(PortError) -> [(relation: String, key: EntityKey)] {
        var missing: [(relation: String, key: EntityKey)] = []
        var seen: Set<EntityKey> = []
        for relation in model.relations.values.sorted(by: { $0.identifier < $1.identifier }) {
            let value = entity.relations[relation.identifier] ?? .null
            switch value {
            case .array(let items):
                guard relation.many else { throw .relationManyViolation(relation.identifier, many: false) }
                if relation.required, items.isEmpty {
                    throw .requiredRelation(relation.identifier, blueprint: model.identifier)
                }
            case .string:
                guard !relation.many else { throw .relationManyViolation(relation.identifier, many: true) }
            default:
                if relation.required { throw .requiredRelation(relation.identifier, blueprint: model.identifier) }
            }
            guard models[relation.target] != nil else { throw .blueprintNotFound(relation.target) }
            for identifier in Self.identifiers(in: value) {
                let key = EntityKey(blueprint: relation.target, identifier: identifier)
                let isSelf = key.blueprint == entity.blueprint && key.identifier == entity.identifier
                guard !isSelf, self.entity(key) == nil, seen.insert(key).inserted else { continue }
                missing.append((relation.identifier, key))
            }
        }
        return missing
    }

    /// Deletes the entity. Entities pointing at it through a required relation make it 403
    /// `has_dependents`, unless `deleteDependents`, which deletes them first (and theirs,
    /// in turn). Optional relations pointing at a deleted entity are cleared, without a
    /// change of their own. Returns the deletions, dependents first, the entity last.
    public mutating func delete(
        _ key: EntityKey,
        models: BlueprintModels,
        deleteDependents: Bool,
        runID: String?
    ) throws(PortError) -> [EntityChange] {
        guard entity(key) != nil else { throw .entityNotFound(key.identifier, blueprint: key.blueprint) }
        var order: [EntityKey] = [key]
        var doomed: Set<EntityKey> = [key]
        var cursor = 0
        while cursor < order.count {
            let current = order[cursor]
            cursor += 1
            for link in links(to: current).sorted(by: { $0.source < $1.source })
            where models[link.source.blueprint]?.relations[link.relation]?.required == true
                && !doomed.contains(link.source)
            {
                guard deleteDependents else {
                    let dependents = links(to: key).filter {
                        models[$0.source.blueprint]?.relations[$0.relation]?.required == true
                    }
                    throw .hasDependents(
                        key.identifier,
                        blueprint: key.blueprint,
                        dependents: dependents.map(\.source).sorted()
                    )
                }
                doomed.insert(link.source)
                order.append(link.source)
            }
        }
        var changes: [EntityChange] = []
        for doomedKey in order.reversed() {
            guard let removed = remove(doomedKey, model: models[doomedKey.blueprint]) else { continue }
            changes.append(EntityChange(kind: .delete, before: removed, after: nil, runID: runID))
            clearLinks(to: doomedKey, models: models)
        }
        return changes
    }

    /// Takes `key` out of every relation still pointing at it.
    private mutating func clearLinks(to key: EntityKey, models: BlueprintModels) {
        for link in links(to: key) {
            guard var source = entity(link.source), let value = source.relations[link.relation] else { continue }
            if case .array(let items) = value {
                source.relations[link.relation] = .array(items.filter { $0.stringValue != key.identifier })
            } else {
                source.relations[link.relation] = .null
            }
            put(source, model: models[source.blueprint])
        }
    }
}

extension Entity {
    /// This entity with the body's fields merged in: properties and relations key by key.
    func merged(with body: EntityBody, at time: Date, by client: String) -> Entity {
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
