import HTTPServer
import PortContract

extension PortAPI {
    /// Blueprints, actions, and triggering a run of an action.
    func registerCatalogRoutes(on router: inout HTTPRouter) {
        router.addImmediate(
            .get,
            "/v1/blueprints",
            route { (_, _) throws(PortError) in ok(["blueprints": .array(catalog.blueprints.map(\.json))]) }
        )
        router.addImmediate(
            .get,
            "/v1/blueprints/:blueprint",
            route { (request, _) throws(PortError) in
                ok(["blueprint": try catalog.blueprint(request.parameter("blueprint")!).json])
            }
        )
        router.addImmediate(
            .post,
            "/v1/blueprints",
            route { (request, client) throws(PortError) in
                let blueprint = try Blueprint(definition: try JSONBody(request).value)
                return ok(["blueprint": try catalog.add(blueprint, by: client).json], status: 201)
            }
        )
        router.addImmediate(
            .get,
            "/v1/actions",
            route { (_, _) throws(PortError) in ok(["actions": .array(catalog.actions.map(\.json))]) }
        )
        router.addImmediate(
            .get,
            "/v1/actions/:action",
            route { (request, _) throws(PortError) in
                ok(["action": try catalog.action(request.parameter("action")!).json])
            }
        )
        router.addImmediate(
            .post,
            "/v1/actions",
            route { (request, client) throws(PortError) in
                let action = try ActionDefinition(definition: try JSONBody(request).value)
                return ok(["action": try catalog.add(action, by: client).json], status: 201)
            }
        )
        router.addImmediate(
            .post,
            "/v1/actions/:action/runs",
            route { (request, client) throws(PortError) in
                let action = try catalog.action(request.parameter("action")!)
                let body = try JSONBody(request).value.object(allowing: ["properties", "entity"])
                guard let properties = body["properties"]?.objectValue else {
                    throw .invalidRequest("body.properties is required (an object of the action's inputs)")
                }
                if let entity = body["entity"], entity.stringValue == nil {
                    throw .invalidRequest("body.entity must be a string (an entity identifier), not \(entity.typeName)")
                }
                let run = runs.create(
                    try catalog.newRun(
                        of: action,
                        properties: properties,
                        entity: body["entity"]?.stringValue,
                        source: .api,
                        user: request.query("run_as") ?? client,
                        entities: runs
                    )
                )
                return ok(["run": run.json(.v2)], status: 202)
            }
        )
        router.addImmediate(
            .patch,
            "/v1/actions/runs/:id/response",
            route { (request, client) throws(PortError) in
                let body = try JSONBody(request).value.object(allowing: ["response"])
                guard let response = body["response"] else { throw .invalidRequest("body.response is required") }
                return ok(["run": try runs.setResponse(request.parameter("id")!, response, by: client).json(.v1)])
            }
        )
    }
}

extension Catalog {
    /// What is needed to create a run of `action`: the blueprint and the entity (required
    /// for DAY-2 and DELETE actions, 404 when it does not exist) resolved to their titles.
    func newRun(
        of action: ActionDefinition,
        properties: JSONObject,
        entity entityIdentifier: String?,
        source: RunSource,
        user: String,
        entities: RunStore
    ) throws(PortError) -> NewRun {
        let blueprint = try action.blueprintIdentifier.map { (identifier) throws(PortError) in
            try self.blueprint(identifier)
        }
        var entity: Entity?
        if let entityIdentifier {
            guard let blueprint else {
                throw .invalidRequest(
                    "action \"\(action.identifier)\" has no blueprint, so a run cannot name an entity"
                )
            }
            entity = try entities.entity(entityIdentifier, of: blueprint.identifier)
        } else if action.operation != .create {
            throw .invalidRequest("body.entity is required: \(action.operation.rawValue) action runs act on an entity")
        }
        return NewRun(
            action: RunActionInfo(identifier: action.identifier, title: action.title, icon: action.icon),
            blueprintIdentifier: blueprint?.identifier,
            blueprintTitle: blueprint?.title,
            entityIdentifier: entity?.identifier,
            entityTitle: entity?.title,
            properties: properties,
            requiredApproval: action.requiredApproval,
            synchronized: action.invocation.synchronized,
            source: source,
            createdBy: user
        )
    }
}

extension Blueprint {
    /// The blueprint as Port's API returns it.
    var json: JSONValue { .object(definition) }
}

extension ActionDefinition {
    /// The action as Port's API returns it.
    var json: JSONValue { .object(definition) }
}
