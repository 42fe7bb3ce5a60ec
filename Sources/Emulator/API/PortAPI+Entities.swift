import HTTPServer
import PortContract

extension PortAPI {
    /// Entities under blueprints, with `upsert`, `merge`, `validation_only` and `run_id`.
    func registerEntityRoutes(on router: inout HTTPRouter) {
        addRoute(
            &router,
            .get,
            "/v1/blueprints/:blueprint/entities",
            route { (request, _) throws(PortError) in
                let blueprint = try catalog.blueprint(request.parameter("blueprint")!)
                return ok(["entities": .array(runs.entities(of: blueprint.identifier).map(\.json))])
            }
        )
        addRoute(
            &router,
            .get,
            "/v1/blueprints/:blueprint/entities/:entity",
            route { (request, _) throws(PortError) in
                let blueprint = try catalog.blueprint(request.parameter("blueprint")!)
                return ok(["entity": try runs.entity(request.parameter("entity")!, of: blueprint.identifier).json])
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
                let change = try write(request, identifier: nil, mode: mode, by: client)
                return ok(["entity": change.after?.json ?? .null], status: change.before == nil ? 201 : 200)
            }
        )
        for (method, mode) in [(HTTPMethod.put, EntityWriteMode.replace), (.patch, .merge)] {
            addRoute(
                &router,
                method,
                "/v1/blueprints/:blueprint/entities/:entity",
                route { (request, client) throws(PortError) in
                    let change = try write(request, identifier: request.parameter("entity")!, mode: mode, by: client)
                    return ok(["entity": change.after?.json ?? .null])
                }
            )
        }
        addRoute(
            &router,
            .delete,
            "/v1/blueprints/:blueprint/entities/:entity",
            route { (request, client) throws(PortError) in
                let blueprint = try catalog.blueprint(request.parameter("blueprint")!)
                let change = try runs.deleteEntity(
                    request.parameter("entity")!,
                    of: blueprint.identifier,
                    runID: request.query("run_id"),
                    by: client
                )
                entityChanged(change, of: blueprint, by: client)
                return ok([:])
            }
        )
    }

    /// One entity write: the blueprint must exist, the body must be an entity, and the
    /// query's `run_id` and `validation_only` apply.
    private func write(
        _ request: HTTPRequest,
        identifier: String?,
        mode: EntityWriteMode,
        by client: String
    ) throws(PortError) -> EntityChange {
        let blueprint = try catalog.blueprint(request.parameter("blueprint")!)
        let body = try EntityBody(body: try JSONBody(request).value)
        _ = try booleanQuery(request, "create_missing_related_entities")
        let validationOnly = try booleanQuery(request, "validation_only")
        let change = try runs.writeEntity(
            body,
            identifier: identifier,
            of: blueprint,
            mode: mode,
            runID: request.query("run_id"),
            validationOnly: validationOnly,
            by: client
        )
        if !validationOnly { entityChanged(change, of: blueprint, by: client) }
        return change
    }

    /// What follows every stored entity change: its change-log message and the automations.
    private func entityChanged(_ change: EntityChange, of blueprint: Blueprint, by client: String) {
        publisher.schedule(change, of: blueprint, by: client)
        automations.entityChanged(change, by: client)
    }
}

/// A `true`/`false` query parameter; absent is false, anything else is 422 `invalid_request`.
func booleanQuery(_ request: HTTPRequest, _ name: String) throws(PortError) -> Bool {
    switch request.query(name) {
    case nil, "false": return false
    case "true": return true
    case let text?: throw .invalidRequest("querystring.\(name) must be true or false (got \"\(text)\")")
    }
}
