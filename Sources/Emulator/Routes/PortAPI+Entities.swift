import HTTPServer
import PortCatalog
import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension PortAPI {
    /// Entities under blueprints, with `upsert`, `merge`, `validation_only`, `run_id`,
    /// `create_missing_related_entities` and `delete_dependents`; reads take Port's read flags.
    func registerEntityRoutes(on router: inout PortRouter) {
        addRoute(
            &router,
            .get,
            "/v1/blueprints/:blueprint/entities",
            route { (request, _) throws(PortError) in
                let blueprint = try catalog.blueprint(request.parameter("blueprint")!)
                let options = try readOptions(request)
                let reader = reader()
                return ok([
                    "entities": .array(
                        reader.store.entities(of: blueprint.identifier).map { reader.render($0, options) }
                    )
                ])
            }
        )
        addRoute(
            &router,
            .get,
            "/v1/blueprints/:blueprint/entities/:entity",
            route { (request, _) throws(PortError) in
                let blueprint = try catalog.blueprint(request.parameter("blueprint")!)
                let options = try readOptions(request)
                let entity = try runs.entity(request.parameter("entity")!, of: blueprint.identifier)
                return ok(["entity": render(entity, options)])
            }
        )
        addRoute(
            &router,
            .post,
            "/v1/blueprints/:blueprint/entities",
            route { (request, client) throws(PortError) in
                let mode = EntityWriteMode.create(
                    upsert: try booleanQuery(request, "upsert"),
                    merge: try booleanQuery(request, "merge")
                )
                let options = try readOptions(request)
                let change = try write(request, identifier: nil, mode: mode, by: client)
                return ok(["entity": rendered(change, options)], status: change.before == nil ? 201 : 200)
            }
        )
        for (method, mode) in [(HTTPMethod.put, EntityWriteMode.replace), (.patch, .merge)] {
            addRoute(
                &router,
                method,
                "/v1/blueprints/:blueprint/entities/:entity",
                route { (request, client) throws(PortError) in
                    let options = try readOptions(request)
                    let change = try write(request, identifier: request.parameter("entity")!, mode: mode, by: client)
                    return ok(["entity": rendered(change, options)])
                }
            )
        }
        addRoute(
            &router,
            .delete,
            "/v1/blueprints/:blueprint/entities/:entity",
            route { (request, client) throws(PortError) in
                let blueprint = try catalog.blueprint(request.parameter("blueprint")!)
                let changes = try runs.deleteEntity(
                    request.parameter("entity")!,
                    of: blueprint.identifier,
                    models: catalog.models,
                    deleteDependents: try booleanQuery(request, "delete_dependents"),
                    runID: runIDQuery(request),
                    by: client
                )
                entitiesChanged(changes, by: client)
                return ok([:])
            }
        )
        registerSearchRoutes(on: &router)
    }

    /// A reader over a copy of the catalog, with the emulator's clock: for searches and lists,
    /// which run without the store's lock.
    func reader() -> CatalogReader {
        CatalogReader(store: runs.entityStore, models: catalog.models, now: automations.clock.now())
    }

    /// One entity as Port answers it, rendered under the store's lock (its computed
    /// properties read related entities; a copy held outside the lock would make the next
    /// write copy its blueprint's tables).
    func render(_ entity: Entity, _ options: EntityReadOptions) -> JSONValue {
        let models = catalog.models
        let now = automations.clock.now()
        return runs.readEntities { CatalogReader(store: $0, models: models, now: now).render(entity, options) }
    }

    /// One entity write: the blueprint must exist, the body must be an entity, and the
    /// query's `run_id`, `validation_only` and `create_missing_related_entities` apply.
    /// Returns the entity's own change (the last).
    private func write(
        _ request: HTTPRequest,
        identifier: String?,
        mode: EntityWriteMode,
        by client: String
    ) throws(PortError) -> EntityChange {
        let models = catalog.models
        guard let model = models[request.parameter("blueprint")!] else {
            throw .blueprintNotFound(request.parameter("blueprint")!)
        }
        let body = try EntityBody(body: try JSONBody(request).value)
        let options = try writeOptions(request, mode: mode, by: client)
        let changes = try runs.writeEntity(body, identifier: identifier, of: model, models: models, options: options)
        if !options.validationOnly { entitiesChanged(changes, by: client) }
        return changes[changes.count - 1]
    }

    /// The written entity as the answer shows it: with computed properties, and the
    /// request's read flags (read before the write, so a malformed one writes nothing).
    private func rendered(_ change: EntityChange, _ options: EntityReadOptions) -> JSONValue {
        guard let entity = change.after else { return .null }
        return render(entity, options)
    }

    /// How a write request applies: `mode`, and the query's `create_missing_related_entities`,
    /// `run_id` and `validation_only`; the `User-Agent` is the entity's `$datasource`; the
    /// organization's teams, when it has any, are the ones `team` may name.
    func writeOptions(
        _ request: HTTPRequest,
        mode: EntityWriteMode,
        by client: String
    ) throws(PortError)
        -> EntityWriteOptions
    {
        var options = EntityWriteOptions(
            mode: mode,
            createMissingRelated: try booleanQuery(request, "create_missing_related_entities"),
            runID: runIDQuery(request),
            validationOnly: try booleanQuery(request, "validation_only"),
            client: client,
            datasource: request.header("user-agent")
        )
        options.knownTeams = directory.teamNames
        return options
    }

    /// What follows every stored entity change: its change-log message and the automations.
    func entitiesChanged(_ changes: [EntityChange], by client: String) {
        let models = catalog.models
        for change in changes {
            guard let blueprint = (change.after ?? change.before).flatMap({ models[$0.blueprint]?.blueprint }) else {
                continue
            }
            publisher.schedule(change, of: blueprint, by: client)
            var entry = InvocationMessages.entityChange(change, orgID: organization.id, by: client, at: Date())
            entry["additionalData"] = [:]
            entry["message"] = .string(
                "\(change.kind.rawValue) \(blueprint.identifier)/\((change.after ?? change.before)?.identifier ?? "")"
            )
            audit.record(entry)
            automations.entityChanged(change, by: client)
        }
    }
}

/// `run_id`: the run an entity write is made for. Empty (`run_id=`, as Port's Terraform
/// provider sends on every write) is no run: an emulator choice, in `fixtures/README.md`.
func runIDQuery(_ request: HTTPRequest) -> String? {
    guard let text = request.query("run_id"), !text.isEmpty else { return nil }
    return text
}

/// Port's read flags from the query: `include` and `exclude` (repeated, or comma
/// separated), `exclude_calculated_properties`, `attach_title_to_relation` and
/// `attach_identifier_to_title_mirror_properties`.
func readOptions(_ request: HTTPRequest) throws(PortError) -> EntityReadOptions {
    var options = EntityReadOptions()
    let include = request.queryValues("include").flatMap { $0.split(separator: ",").map(String.init) }
    options.include = include.isEmpty ? nil : include
    options.exclude = request.queryValues("exclude").flatMap { $0.split(separator: ",").map(String.init) }
    options.excludeCalculatedProperties = try booleanQuery(request, "exclude_calculated_properties")
    options.attachTitleToRelation = try booleanQuery(request, "attach_title_to_relation")
    options.attachIdentifierToTitleMirrorProperties = try booleanQuery(
        request,
        "attach_identifier_to_title_mirror_properties"
    )
    return options
}

/// A `true`/`false` query parameter; absent is false, anything else is 422 `invalid_request`.
func booleanQuery(_ request: HTTPRequest, _ name: String) throws(PortError) -> Bool {
    switch request.query(name) {
    case nil, "false": return false
    case "true": return true
    case let text?: throw .invalidRequest("querystring.\(name) must be true or false (got \"\(text)\")")
    }
}
