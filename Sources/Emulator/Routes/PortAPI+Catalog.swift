import HTTPServer
import PortCatalog
import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension PortAPI {
    /// Blueprints, actions, and triggering a run of an action.
    func registerCatalogRoutes(on router: inout PortRouter) {
        registerDefinitionRoutes(
            on: &router,
            path: "/v1/blueprints",
            key: "blueprint",
            list: { catalog.blueprints.map(\.json) },
            find: { (identifier) throws(PortError) in try catalog.blueprint(identifier).json },
            create: { (body, client) throws(PortError) in
                try catalog.add(try PortRequestSchemas.blueprint(from: body), by: client).json
            }
        )
        for (method, merge) in [(HTTPMethod.put, false), (.patch, true)] {
            addRoute(
                &router,
                method,
                "/v1/blueprints/:identifier",
                route { (request, client) throws(PortError) in
                    let updated = try catalog.update(
                        request.parameter("identifier")!,
                        with: try JSONBody(request).value,
                        merge: merge,
                        by: client,
                        check: { (body) throws(PortError) in try PortRequestSchemas.blueprint(from: body) }
                    )
                    return ok(["blueprint": updated.json])
                }
            )
        }
        registerDefinitionRoutes(
            on: &router,
            path: "/v1/actions",
            key: "action",
            list: { catalog.actions.map(\.json) },
            find: { (identifier) throws(PortError) in try catalog.action(identifier).json },
            create: { (body, client) throws(PortError) in
                let action = try ActionDefinition(definition: body)
                if let secret = action.inputSchema.encryptedProperties.first,
                    clientSecret.utf8.count < SecretInput.keyLength
                {
                    throw .invalidRequest(
                        "userInputs.properties.\(secret).encryption needs a client secret of at least \(SecretInput.keyLength) bytes (the key is its first \(SecretInput.keyLength)); this emulator's is \(clientSecret.utf8.count): start it with a longer --client-secret"
                    )
                }
                return try catalog.add(action, by: client).json
            }
        )
        registerDefinitionChangeRoutes(on: &router)
        addRoute(
            &router,
            .post,
            "/v1/actions/:action/runs",
            route { (request, client) throws(PortError) in
                let action = try catalog.action(request.parameter("action")!)
                if action.automation != nil {
                    // The emulator's choice: Port documents no manual trigger of an automation.
                    throw .invalidRequest(
                        "\"\(action.identifier)\" is an automation: it runs on its trigger's events, not on request"
                    )
                }
                let body = try JSONBody(request).value.object(allowing: ["properties", "entity"])
                guard let properties = body["properties"]?.objectValue else {
                    throw .invalidRequest("body.properties is required (an object of the action's inputs)")
                }
                if let entity = body["entity"], entity.stringValue == nil {
                    throw .invalidRequest("body.entity must be a string (an entity identifier), not \(entity.typeName)")
                }
                var newRun = try catalog.newRun(
                    of: action,
                    properties: properties,
                    entity: body["entity"]?.stringValue,
                    source: .api,
                    user: request.query("run_as") ?? client,
                    entities: runs,
                    clientSecret: clientSecret
                )
                // run_as names a user of the organization, once it has users.
                newRun.user = try request.query("run_as").flatMap { (email) throws(PortError) in
                    try directory.triggeringUser(email)
                }
                let run = runs.create(newRun)
                runs.holdIfAsked(run.id, by: request)
                publisher.schedule(runID: run.id)
                return ok(["run": run.json(.v2)], status: 202)
            }
        )
        addRoute(
            &router,
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

extension PortAPI {
    /// `PUT`/`DELETE /v1/actions/{id}`, the permissions of actions and blueprints, and a
    /// run's approvers.
    fileprivate func registerDefinitionChangeRoutes(on router: inout PortRouter) {
        addRoute(
            &router,
            .put,
            "/v1/actions/:identifier",
            route { (request, client) throws(PortError) in
                let identifier = request.parameter("identifier")!
                let body = try JSONBody(request).value
                if let named = body["identifier"]?.stringValue, named != identifier {
                    throw .invalidRequest(
                        "body.identifier \"\(named)\" differs from the path's \"\(identifier)\"; an action's identifier cannot change"
                    )
                }
                return ok(["action": try catalog.replace(try ActionDefinition(definition: body), by: client).json])
            }
        )
        addRoute(
            &router,
            .delete,
            "/v1/actions/:identifier",
            route { (request, _) throws(PortError) in
                try catalog.remove(action: request.parameter("identifier")!)
                return ok([:])
            }
        )
        for (kind, path) in [
            ("action", "/v1/actions/:identifier/permissions"), ("blueprint", "/v1/blueprints/:identifier/permissions"),
        ] {
            addRoute(
                &router,
                .get,
                path,
                route { (request, _) throws(PortError) in
                    ok(["permissions": try catalog.permissions(of: kind, request.parameter("identifier")!)])
                }
            )
            addRoute(
                &router,
                .patch,
                path,
                route { (request, _) throws(PortError) in
                    let body = try optionalObject(request)
                    let allowed: Set<String> = kind == "action" ? ["execute", "approve"] : ["entities"]
                    if let unknown = body.keys.first(where: { !allowed.contains($0) }) {
                        throw .invalidRequest(
                            "body.\(unknown) is not a permission of \(kind == "action" ? "an action" : "a blueprint")"
                        )
                    }
                    return ok([
                        "permissions": try catalog.patchPermissions(of: kind, request.parameter("identifier")!, body)
                    ])
                }
            )
        }
        addRoute(
            &router,
            .get,
            "/v1/actions/runs/:id/approvers",
            route { (request, _) throws(PortError) in
                let run = try runs.run(request.parameter("id")!)
                var approvers: [JSONValue] = []
                if let approval = run.approval {
                    approvers.append([
                        "userId": approval["by"] ?? .null, "state": approval["status"] ?? .null,
                        "description": approval["description"] ?? .null,
                    ])
                } else if try booleanQuery(request, "include_pending_approvers"), run.status == .waitingForApproval {
                    let users =
                        (try? catalog.permissions(of: "action", run.request.action.identifier))?["approve"]?["users"]?
                        .arrayValue ?? []
                    approvers = users.map { ["userId": $0, "state": "PENDING", "description": .null] }
                }
                return ok(["approvers": .array(approvers)])
            }
        )
    }

    /// `GET path` (`{ok, <key>s}`), `GET path/:id` (`{ok, <key>}`) and `POST path` (201).
    fileprivate func registerDefinitionRoutes(
        on router: inout PortRouter,
        path: String,
        key: String,
        list: @escaping @Sendable () -> [JSONValue],
        find: @escaping @Sendable (String) throws(PortError) -> JSONValue,
        create: @escaping @Sendable (JSONValue, String) throws(PortError) -> JSONValue
    ) {
        addRoute(&router, .get, path, route { (_, _) throws(PortError) in ok([key + "s": .array(list())]) })
        addRoute(
            &router,
            .get,
            path + "/:identifier",
            route { (request, _) throws(PortError) in ok([key: try find(request.parameter("identifier")!)]) }
        )
        addRoute(
            &router,
            .post,
            path,
            route { (request, client) throws(PortError) in
                ok([key: try create(try JSONBody(request).value, client)], status: 201)
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
        entities: RunStore,
        clientSecret: String
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
        let inputs = try action.validatedInputs(properties)
        let models = self.models
        try entities.readEntities { (store) throws(PortError) in
            let reader = CatalogReader(store: store, models: models, now: Date())
            try action.checkEntityInputs(inputs, entity: entity, user: user, reader: reader)
        }
        return NewRun(
            action: RunActionInfo(identifier: action.identifier, title: action.title, icon: action.icon),
            blueprintIdentifier: blueprint?.identifier,
            blueprintTitle: blueprint?.title,
            entityIdentifier: entity?.identifier,
            entityTitle: entity?.title,
            // Secret inputs are stored as Port sends them: encrypted (contract §8).
            properties: try action.encryptingSecretInputs(inputs, clientSecret: clientSecret),
            requiredApproval: action.requiredApproval,
            // Only runs Port itself calls the webhook for refuse a manual status: an agent's
            // synchronized run ends with port-agent's PATCH …/response, then its status PATCH
            // (contract §3, port-agent's webhook_invoker.py).
            synchronized: action.invocation.synchronized && !action.invocation.agent,
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
