import HTTPServer
import PortCatalog
import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Port's writes and reads of many entities at once: bulk upsert (up to 20), bulk delete (up
/// to 100), deleting a blueprint's entities (and the blueprint), counting them, and the
/// entities of a data source (what Ocean reads to find its stale entities).
///
/// **Emulator choices** (`fixtures/README.md`): a bulk upsert answers 200 when every entity
/// was written and 207 with `ok: false` and per-entity `errors` otherwise; a malformed entity
/// (Port's request schema) refuses the whole request with 422. A bulk delete skips names with
/// no entity and is all or none. An entity's `$datasource` lists the `User-Agent`s that wrote
/// it; `datasource-entities` matches one of them by prefix and suffix, among entities created
/// before `before`.
extension PortAPI {
    func registerBulkRoutes(on router: inout PortRouter) {
        addRoute(
            &router,
            .post,
            "/v1/blueprints/:blueprint/entities/bulk",
            route { (request, client) throws(PortError) in try bulkUpsert(request, by: client) }
        )
        addRoute(
            &router,
            .post,
            "/v1/blueprints/:blueprint/bulk/entities/delete",
            route { (request, client) throws(PortError) in
                let blueprint = try catalog.blueprint(request.parameter("blueprint")!).identifier
                let body = try JSONBody(request).value.object(allowing: ["entities"])
                guard let items = body["entities"]?.arrayValue, (1...100).contains(items.count),
                    items.allSatisfy({ $0.stringValue != nil })
                else {
                    throw .invalidRequest("body.entities must be an array of 1 to 100 entity identifiers")
                }
                let changes = try runs.deleteEntities(
                    items.compactMap(\.stringValue),
                    of: blueprint,
                    models: catalog.models,
                    deleteDependents: try booleanQuery(request, "delete_dependents"),
                    runID: runIDQuery(request)
                )
                entitiesChanged(changes, by: client)
                return ok(["deletedEntities": .array(changes.compactMap { $0.before.map { .string($0.identifier) } })])
            }
        )
        addRoute(
            &router,
            .delete,
            "/v1/blueprints/:blueprint/all-entities",
            route { (request, client) throws(PortError) in
                let blueprint = try catalog.blueprint(request.parameter("blueprint")!).identifier
                let deleteBlueprint = try booleanQuery(request, "delete_blueprint")
                // Checked first, so that a blueprint that cannot go keeps its entities (all or none).
                if deleteBlueprint { try catalog.checkRemovable(blueprint: blueprint, deleteActions: true) }
                let models = catalog.models
                let changes = try runs.deleteAllEntities(of: blueprint, models: models, runID: runIDQuery(request))
                entitiesChanged(changes, by: client)
                // Port's "delete all": the blueprint goes with its actions.
                if deleteBlueprint { try catalog.remove(blueprint: blueprint, deleteActions: true) }
                return ok([:])
            }
        )
        addRoute(
            &router,
            .get,
            "/v1/blueprints/:blueprint/entities-count",
            route { (request, _) throws(PortError) in
                let blueprint = try catalog.blueprint(request.parameter("blueprint")!).identifier
                return ok(["count": .int(Int64(runs.readEntities { $0.entities(of: blueprint).count }))])
            }
        )
        addRoute(
            &router,
            .post,
            "/v1/blueprints/entities/datasource-entities",
            route { (request, _) throws(PortError) in
                let query = try DatasourceQuery(try JSONBody(request).value)
                let (page, next) = runs.readEntities { store in query.page(of: store, blueprints: catalog.models.keys) }
                let options = EntityReadOptions()
                return ok([
                    "entities": .array(page.map { render($0, options) }), "next": next.map(JSONValue.string) ?? .null,
                ])
            }
        )
        addRoute(
            &router,
            .delete,
            "/v1/blueprints/:identifier",
            route { (request, _) throws(PortError) in
                let blueprint = try catalog.blueprint(request.parameter("identifier")!).identifier
                let deleteActions = try booleanQuery(request, "delete_actions")
                let count = runs.readEntities { $0.entities(of: blueprint).count }
                guard count == 0 else {
                    throw PortError(
                        status: 403,
                        code: "has_dependents",
                        message:
                            "Blueprint \"\(blueprint)\" has \(count) entities; delete them first (DELETE /v1/blueprints/\(blueprint)/all-entities?delete_blueprint=true does both)",
                        rule: "blueprint-no-entities"
                    )
                }
                try catalog.remove(blueprint: blueprint, deleteActions: deleteActions)
                return ok([:])
            }
        )
    }

    /// `POST …/entities/bulk`: each entity written on its own; 200 when all were, 207 with
    /// their errors when some were not.
    private func bulkUpsert(_ request: HTTPRequest, by client: String) throws(PortError) -> HTTPResponse {
        let models = catalog.models
        guard let model = models[request.parameter("blueprint")!] else {
            throw .blueprintNotFound(request.parameter("blueprint")!)
        }
        let upsert = try booleanQuery(request, "upsert")
        let merge = try booleanQuery(request, "merge")
        let mode = EntityWriteMode.create(upsert: upsert, merge: upsert && merge)
        let options = try writeOptions(request, mode: mode, by: client)
        let body = try JSONBody(request).value.object(allowing: ["entities"])
        guard let items = body["entities"]?.arrayValue, (1...20).contains(items.count) else {
            throw .invalidRequest("body.entities must be an array of 1 to 20 entities")
        }
        var bodies: [EntityBody] = []
        for (index, item) in items.enumerated() {
            do {
                bodies.append(try EntityBody(body: item))
            } catch {
                let prefix = "body."
                let detail =
                    error.message.hasPrefix(prefix) ? String(error.message.dropFirst(prefix.count)) : error.message
                throw .invalidRequest("body.entities[\(index)].\(detail)")
            }
        }
        let outcomes = try runs.writeEntities(bodies, of: model, models: models, options: options)
        var written: [JSONValue] = []
        var failed: [JSONValue] = []
        for (index, outcome) in outcomes.enumerated() {
            switch outcome {
            case .success(let changes):
                if !options.validationOnly { entitiesChanged(changes, by: client) }
                let change = changes[changes.count - 1]
                written.append([
                    "identifier": .string((change.after ?? change.before)?.identifier ?? ""),
                    "index": .int(Int64(index)), "created": .bool(change.before == nil),
                ])
            case .failure(let error):
                recorder.record(Violation(refusing: request, with: error, clientID: client))
                failed.append([
                    "identifier": .string(bodies[index].identifier ?? "unknown"), "index": .int(Int64(index)),
                    "statusCode": .int(Int64(error.status)), "error": .string(error.code),
                    "message": .string(error.message),
                ])
            }
        }
        let answer: JSONValue = [
            "ok": .bool(failed.isEmpty), "entities": .array(written), "errors": .array(failed),
        ]
        return .json(status: failed.isEmpty ? 200 : 207, bytes: answer.compactBytes)
    }
}

/// `POST /v1/blueprints/entities/datasource-entities`: `{datasource_prefix, datasource_suffix,
/// limit?, before?, from?}` (Ocean's snake_case).
private struct DatasourceQuery {
    var prefix: String
    var suffix: String
    var limit = 5000
    var before: Date?
    var from = 0

    init(_ body: JSONValue) throws(PortError) {
        let object = try body.object(allowing: ["datasource_prefix", "datasource_suffix", "limit", "before", "from"])
        guard let prefix = object["datasource_prefix"]?.stringValue,
            let suffix = object["datasource_suffix"]?.stringValue
        else {
            throw .invalidRequest("body.datasource_prefix and body.datasource_suffix are required strings")
        }
        self.prefix = prefix
        self.suffix = suffix
        if let value = object["limit"] {
            guard let number = value.intValue, (1...10_000).contains(number) else {
                throw .invalidRequest("body.limit must be an integer from 1 to 10000 (got \(value.compactText))")
            }
            limit = Int(number)
        }
        if let value = object["before"], value != .null {
            guard let text = value.stringValue, let date = PortTimestamp.parse(text) else {
                throw .invalidRequest("body.before must be an ISO 8601 date-time (got \(value.compactText))")
            }
            before = date
        }
        if let value = object["from"], value != .null {
            guard let text = value.stringValue, let offset = Int(text), offset >= 0 else {
                throw .invalidRequest("body.from must be the `next` of the previous page (got \(value.compactText))")
            }
            from = offset
        }
    }

    /// The page of matching entities, blueprints in identifier order, and the next page's `from`.
    func page(of store: EntityStore, blueprints: some Sequence<String>) -> ([Entity], String?) {
        var matched: [Entity] = []
        for blueprint in blueprints.sorted() {
            for entity in store.entities(of: blueprint) where matches(entity) { matched.append(entity) }
        }
        let page = Array(matched.dropFirst(from).prefix(limit))
        let end = from + page.count
        return (page, end < matched.count ? String(end) : nil)
    }

    private func matches(_ entity: Entity) -> Bool {
        guard entity.datasources.contains(where: { $0.hasPrefix(prefix) && $0.hasSuffix(suffix) }) else { return false }
        return before.map { entity.createdAt < $0 } ?? true
    }
}
