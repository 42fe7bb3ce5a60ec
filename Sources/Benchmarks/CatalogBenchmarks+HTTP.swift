import Emulator
import Foundation
package import Logging
import PortCatalog
import PortContract

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension CatalogBenchmarks {
    /// The same work through Port's API on a running emulator: what a client measures.
    package struct HTTPFigures: Sendable {
        /// `POST /v1/blueprints/service/entities/search` with the two-rule query, one after
        /// another, sorted.
        package let twoRuleSearch: [Duration]
        /// `POST …/entities?upsert=true` per second on the blueprint with three computed
        /// properties, `concurrency` in flight.
        package let upsertsPerSecond: Double
        /// The same on the blueprint without computed properties: the baseline.
        package let plainUpsertsPerSecond: Double
        /// Entities per second through `POST …/entities/bulk?upsert=true`, 20 per request,
        /// `concurrency` requests in flight, on the blueprint with a relation and three
        /// computed properties.
        package let bulkEntitiesPerSecond: Double
        /// The same on the blueprint without computed properties.
        package let plainBulkEntitiesPerSecond: Double
    }

    /// Loads `count` services into a running emulator (through its store, not HTTP), then
    /// times `searches` searches and `writes` upserts on each blueprint through Port's API.
    package static func overHTTP(
        count: Int,
        searches: Int,
        writes: Int,
        concurrency: Int,
        logger: Logger
    ) async throws -> HTTPFigures {
        try await InvocationBenchmarks.withEmulator(fetchWait: .milliseconds(10), logger: logger) { emulator, _ in
            let definitions = try models()
            // The service's aggregation names deployment, which relates back to service: it
            // comes last, as a blueprint change (PATCH), as it would in Port.
            var withoutAggregation = definitions["service"]!.blueprint.definition
            let aggregations = withoutAggregation["aggregationProperties"]
            withoutAggregation["aggregationProperties"] = nil
            for blueprint in [
                definitions["environment"]!.blueprint, try Blueprint(definition: .object(withoutAggregation)),
                definitions["plain_service"]!.blueprint, definitions["deployment"]!.blueprint,
            ] {
                try emulator.catalog.add(blueprint, by: "bench")
            }
            try emulator.catalog.update(
                "service",
                with: ["aggregationProperties": aggregations ?? [:]],
                merge: true,
                by: "bench",
                check: { (body) throws(PortError) in try Blueprint(definition: body) }
            )
            let models = emulator.catalog.models
            for index in 0..<environments {
                _ = try emulator.runs.writeEntity(
                    EntityBody(identifier: "env-\(index)", properties: ["region": .string("r\(index)")]),
                    of: models["environment"]!,
                    models: models,
                    options: EntityWriteOptions(mode: .create(upsert: true, merge: false), client: "bench")
                )
            }
            for index in 0..<count {
                _ = try emulator.runs.writeEntity(
                    service(index),
                    of: models["service"]!,
                    models: models,
                    options: EntityWriteOptions(mode: .create(upsert: true, merge: false), client: "bench")
                )
            }
            let token = try await AutomationBenchmarks.accessToken(emulator)
            @Sendable func post(_ path: String, _ body: JSONValue) async throws {
                var request = URLRequest(url: URL(string: emulator.info.apiURL + path)!)
                request.httpMethod = "POST"
                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
                request.httpBody = Data(body.compactBytes)
                let (data, response) = try await URLSession.shared.data(for: request)
                guard let status = (response as? HTTPURLResponse)?.statusCode, status == 200 || status == 201 else {
                    throw BenchmarkError(message: "POST \(path) answered \(String(decoding: data, as: UTF8.self))")
                }
            }
            let search: JSONValue = [
                "query": [
                    "combinator": "and",
                    "rules": [
                        ["property": "tier", "operator": "=", "value": "gold"],
                        ["property": "replicas", "operator": ">=", "value": 90],
                    ],
                ]
            ]
            var samples: [Duration] = []
            for _ in 0..<searches {
                let started = ContinuousClock.now
                try await post("/blueprints/service/entities/search", search)
                samples.append(ContinuousClock.now - started)
            }
            func upserts(_ blueprint: String) async throws -> Double {
                let started = ContinuousClock.now
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<writes {
                        if index >= concurrency { try await group.next() }
                        var body = service(index % count)
                        body.properties?["version"] = .string("2.\(index).0")
                        let json: JSONValue = [
                            "identifier": .string(body.identifier!), "properties": .object(body.properties ?? [:]),
                            "relations": .object(body.relations ?? [:]),
                        ]
                        group.addTask { try await post("/blueprints/\(blueprint)/entities?upsert=true", json) }
                    }
                    try await group.waitForAll()
                }
                return Double(writes) / (ContinuousClock.now - started).seconds
            }
            func bulkUpserts(_ blueprint: String) async throws -> Double {
                let batches = max(writes / 20, 1)
                let started = ContinuousClock.now
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for batch in 0..<batches {
                        if batch >= concurrency { try await group.next() }
                        let entities: [JSONValue] = (0..<20).map { offset in
                            let index = batch * 20 + offset
                            var body = service(index % count)
                            body.properties?["version"] = .string("3.\(index).0")
                            return [
                                "identifier": .string(body.identifier!), "properties": .object(body.properties ?? [:]),
                                "relations": .object(body.relations ?? [:]),
                            ]
                        }
                        group.addTask {
                            try await post(
                                "/blueprints/\(blueprint)/entities/bulk?upsert=true",
                                ["entities": .array(entities)]
                            )
                        }
                    }
                    try await group.waitForAll()
                }
                return Double(batches * 20) / (ContinuousClock.now - started).seconds
            }
            let plain = try await upserts("plain_service")
            let computed = try await upserts("service")
            let plainBulk = try await bulkUpserts("plain_service")
            let computedBulk = try await bulkUpserts("service")
            return HTTPFigures(
                twoRuleSearch: samples.sorted(),
                upsertsPerSecond: computed,
                plainUpsertsPerSecond: plain,
                bulkEntitiesPerSecond: computedBulk,
                plainBulkEntitiesPerSecond: plainBulk
            )
        }
    }
}
