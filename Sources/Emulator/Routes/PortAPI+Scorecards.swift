import HTTPServer
import PortCatalog
import PortContract

/// Port's scorecards (`/v1/blueprints/{bp}/scorecards`, `/v1/scorecards`); every entity read
/// shows its results (``Scorecard``). Choices: a `PUT` of the list creates or replaces the
/// scorecards it names and leaves the others; a create answers 201.
extension PortAPI {
    func registerScorecardRoutes(on router: inout PortRouter) {
        addRoute(
            &router,
            .get,
            "/v1/scorecards",
            route { (_, _) throws(PortError) in ok(["scorecards": .array(catalog.allScorecards)]) }
        )
        addRoute(
            &router,
            .get,
            "/v1/blueprints/:blueprint/scorecards",
            route { (request, _) throws(PortError) in
                ok(["scorecards": .array(try catalog.scorecards(of: request.parameter("blueprint")!))])
            }
        )
        addRoute(
            &router,
            .post,
            "/v1/blueprints/:blueprint/scorecards",
            route { (request, client) throws(PortError) in
                let body = try JSONBody(request).value
                let stored = try catalog.putScorecard(
                    body,
                    of: request.parameter("blueprint")!,
                    mode: .create,
                    by: client
                )
                return ok(["scorecard": stored], status: 201)
            }
        )
        addRoute(
            &router,
            .put,
            "/v1/blueprints/:blueprint/scorecards",
            route { (request, client) throws(PortError) in
                let blueprint = request.parameter("blueprint")!
                let body = request.body.isEmpty ? JSONValue.array([]) : try JSONBody(request).value
                guard let list = body.arrayValue else {
                    throw .invalidRequest("body must be an array of scorecards, not \(body.typeName)")
                }
                _ = try catalog.blueprint(blueprint)
                // Checked first, so that one bad scorecard changes none.
                for (index, item) in list.enumerated() {
                    _ = try Scorecard(body: item, blueprint: blueprint, at: "body[\(index)]")
                }
                var stored: [JSONValue] = []
                for (index, item) in list.enumerated() {
                    stored.append(
                        try catalog.putScorecard(item, of: blueprint, mode: .upsert, by: client, at: "body[\(index)]")
                    )
                }
                return ok(["scorecards": .array(stored)])
            }
        )
        addRoute(
            &router,
            .get,
            "/v1/blueprints/:blueprint/scorecards/:scorecard",
            route { (request, _) throws(PortError) in
                ok([
                    "scorecard": try catalog.scorecard(
                        request.parameter("scorecard")!,
                        of: request.parameter("blueprint")!
                    )
                ])
            }
        )
        addRoute(
            &router,
            .put,
            "/v1/blueprints/:blueprint/scorecards/:scorecard",
            route { (request, client) throws(PortError) in
                let stored = try catalog.putScorecard(
                    try JSONBody(request).value,
                    of: request.parameter("blueprint")!,
                    identifier: request.parameter("scorecard")!,
                    mode: .replace,
                    by: client
                )
                return ok(["scorecard": stored])
            }
        )
        addRoute(
            &router,
            .delete,
            "/v1/blueprints/:blueprint/scorecards/:scorecard",
            route { (request, _) throws(PortError) in
                try catalog.deleteScorecard(request.parameter("scorecard")!, of: request.parameter("blueprint")!)
                return ok([:])
            }
        )
    }
}
