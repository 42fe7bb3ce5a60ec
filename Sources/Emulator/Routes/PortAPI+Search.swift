import HTTPServer
import PortCatalog
import PortContract

extension PortAPI {
    /// Port's two searches: across blueprints (`POST /v1/entities/search`, every match) and
    /// within one blueprint (`POST /v1/blueprints/{bp}/entities/search`, paged with `next`).
    func registerSearchRoutes(on router: inout PortRouter) {
        addRoute(
            &router,
            .post,
            "/v1/entities/search",
            route { (request, _) throws(PortError) in
                let options = try readOptions(request)
                _ = try booleanQuery(request, "allow_partial_results")
                let query = try Query(parsing: try JSONBody(request).value, at: "body")
                let reader = reader()
                let scope = reader.scope(of: query)
                let entities = try reader.search(query, in: scope)
                return ok([
                    "matchingBlueprints": .array(scope.map(JSONValue.string)),
                    "failedBlueprints": [],
                    "entities": .array(entities.map { reader.render($0, options) }),
                ])
            }
        )
        addRoute(
            &router,
            .post,
            "/v1/blueprints/:blueprint/entities/search",
            route { (request, _) throws(PortError) in
                let blueprint = try catalog.blueprint(request.parameter("blueprint")!)
                let body = try JSONBody(request).value.object(allowing: [
                    "query", "include", "exclude", "limit", "from",
                ])
                var options = EntityReadOptions()
                options.include = try Self.paths(body["include"], "include")
                options.exclude = try Self.paths(body["exclude"], "exclude") ?? []
                let limit = try Self.limit(body["limit"])
                let query = try body["query"].map { (value) throws(PortError) in
                    try Query(parsing: value, at: "body.query")
                }
                guard body["from"] == nil || body["from"]?.stringValue != nil else {
                    throw .invalidRequest("body.from must be a string: the next of the previous page")
                }
                let reader = reader()
                let page = try reader.page(
                    of: blueprint.identifier,
                    matching: query,
                    limit: limit,
                    from: body["from"]?.stringValue
                )
                var answer: JSONObject = ["entities": .array(page.entities.map { reader.render($0, options) })]
                answer["next"] = page.next.map(JSONValue.string)
                return ok(answer)
            }
        )
    }

    private static func paths(_ value: JSONValue?, _ name: String) throws(PortError) -> [String]? {
        guard let value else { return nil }
        guard let items = value.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
            throw .invalidRequest("body.\(name) must be an array of property, relation or $meta identifiers")
        }
        return items.compactMap(\.stringValue)
    }

    /// `limit`: 1 to 1000, 200 when absent.
    private static func limit(_ value: JSONValue?) throws(PortError) -> Int {
        guard let value else { return 200 }
        guard let number = value.intValue, (1...1000).contains(number) else {
            throw .invalidRequest("body.limit must be an integer from 1 to 1000 (got \(value.compactText))")
        }
        return Int(number)
    }
}
