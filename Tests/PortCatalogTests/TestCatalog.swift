import Foundation
import PortCatalog
import PortContract

/// A small catalog for the tests: environments, services related to them, deployments
/// related to both (service required), and computed properties on services.
struct TestCatalog {
    static let epoch = Date(timeIntervalSince1970: 1_700_000_000)

    var models: BlueprintModels = [:]
    var store = EntityStore()
    var clock = epoch

    init(extraServiceDefinition: JSONObject = [:]) throws {
        try add([
            "identifier": "environment",
            "schema": ["properties": ["region": ["type": "string"], "tier": ["type": "number"]]],
        ])
        var service: JSONObject = [
            "identifier": "service",
            "schema": [
                "properties": [
                    "version": ["type": "string"], "replicas": ["type": "number"],
                    "tags": ["type": "array", "items": ["type": "string"]], "url": ["type": "string", "format": "url"],
                    "ttl": ["type": "string", "format": "timer"], "owner": ["type": "string"],
                    "released": ["type": "string", "format": "date-time"], "critical": ["type": "boolean"],
                ]
            ],
            "relations": [
                "environment": ["target": "environment", "required": false, "many": false],
                "dependsOn": ["target": "service", "required": false, "many": true],
            ],
        ]
        for (key, value) in extraServiceDefinition { service[key] = value }
        try add(service)
        try add([
            "identifier": "deployment",
            "schema": ["properties": ["status": ["type": "string"]]],
            "relations": [
                "service": ["target": "service", "required": true, "many": false],
                "environment": ["target": "environment", "required": false, "many": false],
            ],
        ])
    }

    mutating func add(_ definition: JSONObject) throws {
        let model = try BlueprintModel(try Blueprint(definition: .object(definition)))
        models[model.identifier] = model
    }

    /// Creates (or upserts) an entity; one second of clock passes per write.
    @discardableResult
    mutating func put(
        _ blueprint: String,
        _ identifier: String,
        properties: JSONObject = [:],
        relations: JSONObject = [:],
        title: String? = nil,
        team: JSONValue? = nil,
        createMissing: Bool = false,
        runID: String? = nil
    ) throws(PortError) -> [EntityChange] {
        clock.addTimeInterval(1)
        return try store.write(
            EntityWrite(
                EntityBody(
                    identifier: identifier,
                    title: title,
                    team: team,
                    properties: properties,
                    relations: relations
                ),
                identifier: identifier,
                mode: .create(upsert: true, merge: false),
                createMissingRelated: createMissing,
                runID: runID,
                at: clock,
                by: "tester"
            ),
            model: models[blueprint]!,
            models: models
        )
    }

    var reader: CatalogReader { CatalogReader(store: store, models: models, now: clock) }

    /// The identifiers of the entities matching `rules` (JSON text), sorted.
    func search(_ json: String, in blueprints: [String]? = nil) throws -> [String] {
        let query = try Query(parsing: try JSONValue.parse(json), at: "body")
        return try reader.search(query, in: blueprints).map(\.identifier).sorted()
    }
}
