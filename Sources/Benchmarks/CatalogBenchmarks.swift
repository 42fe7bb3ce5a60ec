import Foundation
import PortCatalog
import PortContract

/// The catalog on its own (no HTTP): search over a large blueprint, and upserts with
/// computed properties. Each search is timed through the answer's JSON bytes, which is
/// what the route does besides parsing the body.
package enum CatalogBenchmarks {
    /// The figures of one run.
    package struct Figures: Sendable {
        /// Entities of the searched blueprint.
        package let entities: Int
        /// Resident memory the entities added, in bytes.
        package let bytesForEntities: Int
        /// One `limit: 200` page of a two-rule query, per search, sorted.
        package let twoRule: [Duration]
        /// The same with `exclude_calculated_properties`: the search without the jq of the
        /// calculation property on each entity answered.
        package let twoRuleWithoutComputed: [Duration]
        /// One `limit: 200` page of a `relatedTo` query, per search, sorted.
        package let relatedTo: [Duration]
        /// One 1,000-entity page of a full scan, per page, sorted.
        package let scanPage: [Duration]
        /// A whole paginated scan, start to end.
        package let fullScan: Duration
        /// Upserts per second on a blueprint with a mirror, a calculation and an aggregation
        /// property, each answered with the entity's computed properties.
        package let upsertsPerSecond: Double
        /// The same upserts on a blueprint with the same schema and relation and no computed
        /// property: the baseline.
        package let plainUpsertsPerSecond: Double
    }

    static let environments = 10

    static func models() throws -> BlueprintModels {
        let definitions: [JSONValue] = [
            ["identifier": "environment", "schema": ["properties": ["region": ["type": "string"]]]],
            [
                "identifier": "service",
                "schema": [
                    "properties": [
                        "tier": ["type": "string", "enum": ["gold", "silver", "bronze"]],
                        "replicas": ["type": "number"], "version": ["type": "string"],
                    ]
                ],
                "relations": ["environment": ["target": "environment", "required": false, "many": false]],
                "mirrorProperties": ["region": ["path": "environment.region"]],
                "calculationProperties": [
                    "label": ["type": "string", "calculation": ".identifier + \"@\" + (.properties.region // \"\")"]
                ],
                "aggregationProperties": [
                    "deployments": [
                        "target": "deployment", "calculationSpec": ["calculationBy": "entities", "func": "count"],
                    ]
                ],
            ],
            [
                "identifier": "plain_service",
                "schema": [
                    "properties": [
                        "tier": ["type": "string", "enum": ["gold", "silver", "bronze"]],
                        "replicas": ["type": "number"], "version": ["type": "string"],
                    ]
                ],
                "relations": ["environment": ["target": "environment", "required": false, "many": false]],
            ],
            [
                "identifier": "deployment",
                "relations": ["service": ["target": "service", "required": true, "many": false]],
            ],
        ]
        var models: BlueprintModels = [:]
        for definition in definitions {
            let model = try BlueprintModel(try Blueprint(definition: definition))
            models[model.identifier] = model
        }
        return models
    }

    static func service(_ index: Int) -> EntityBody {
        EntityBody(
            identifier: "svc-\(index)",
            title: "Service \(index)",
            properties: [
                "tier": .string(["gold", "silver", "bronze"][index % 3]), "replicas": .int(Int64(index % 100)),
                "version": .string("1.\(index % 50).0"),
            ],
            relations: ["environment": .string("env-\(index % environments)")]
        )
    }

    /// Loads `count` services (and their environments), then times the searches `rounds`
    /// times each and `upserts` writes.
    package static func measure(count: Int, rounds: Int, upserts: Int) throws -> Figures {
        let models = try models()
        var store = EntityStore()
        let start = Date(timeIntervalSince1970: 1_700_000_000)
        func write(_ body: EntityBody, _ blueprint: String, _ store: inout EntityStore) throws -> [EntityChange] {
            try store.write(
                EntityWrite(
                    body,
                    identifier: body.identifier!,
                    mode: .create(upsert: true, merge: false),
                    at: start,
                    by: "bench"
                ),
                model: models[blueprint]!,
                models: models
            )
        }
        for index in 0..<environments {
            _ = try write(
                EntityBody(identifier: "env-\(index)", properties: ["region": .string("r\(index)")]),
                "environment",
                &store
            )
        }
        let before = residentBytes()
        for index in 0..<count { _ = try write(service(index), "service", &store) }
        let bytes = residentBytes() - before

        let twoRule = try Query(
            parsing: [
                "combinator": "and",
                "rules": [
                    ["property": "tier", "operator": "=", "value": "gold"],
                    ["property": "replicas", "operator": ">=", "value": 90],
                ],
            ],
            at: "query"
        )
        let related = try Query(
            parsing: [
                "combinator": "and",
                "rules": [["operator": "relatedTo", "blueprint": "environment", "value": "env-3"]],
            ],
            at: "query"
        )
        let clock = ContinuousClock()
        func timePages(_ query: Query?, limit: Int, rounds: Int, computed: Bool = true) throws -> [Duration] {
            var options = EntityReadOptions()
            options.excludeCalculatedProperties = !computed
            var samples: [Duration] = []
            for _ in 0..<rounds {
                let reader = CatalogReader(store: store, models: models, now: start)
                let started = clock.now
                let page = try reader.page(of: "service", matching: query, limit: limit, from: nil)
                let body: JSONValue = [
                    "ok": true, "entities": .array(page.entities.map { reader.render($0, options) }),
                ]
                precondition(!body.compactBytes.isEmpty && page.entities.count == limit)
                samples.append(clock.now - started)
            }
            return samples.sorted()
        }
        let twoRuleSamples = try timePages(twoRule, limit: 200, rounds: rounds)
        let twoRuleBare = try timePages(twoRule, limit: 200, rounds: rounds, computed: false)
        let relatedSamples = try timePages(related, limit: 200, rounds: rounds)

        var scanPages: [Duration] = []
        let scanStarted = clock.now
        var cursor: String?
        var seen = 0
        let reader = CatalogReader(store: store, models: models, now: start)
        repeat {
            let started = clock.now
            let page = try reader.page(of: "service", matching: nil, limit: 1000, from: cursor)
            let body: JSONValue = ["ok": true, "entities": .array(page.entities.map { reader.render($0) })]
            precondition(!body.compactBytes.isEmpty)
            scanPages.append(clock.now - started)
            seen += page.entities.count
            cursor = page.next
        } while cursor != nil
        let fullScan = clock.now - scanStarted
        precondition(seen == count, "the scan saw \(seen) of \(count)")

        func timeUpserts(_ blueprint: String) throws -> Double {
            let started = clock.now
            for index in 0..<upserts {
                var body = service(index % count)
                body.properties?["version"] = .string("2.\(index).0")
                let changes = try write(body, blueprint, &store)
                let rendered = CatalogReader(store: store, models: models, now: start).render(changes.last!.after!)
                precondition(rendered["properties"]?["version"] != nil)
            }
            return Double(upserts) / (clock.now - started).seconds
        }
        for index in 0..<min(upserts, count) { _ = try write(service(index), "plain_service", &store) }
        let plainUpserts = try timeUpserts("plain_service")
        let computedUpserts = try timeUpserts("service")
        return Figures(
            entities: count,
            bytesForEntities: bytes,
            twoRule: twoRuleSamples,
            twoRuleWithoutComputed: twoRuleBare,
            relatedTo: relatedSamples,
            scanPage: scanPages.sorted(),
            fullScan: fullScan,
            upsertsPerSecond: computedUpserts,
            plainUpsertsPerSecond: plainUpserts
        )
    }

    /// The process's resident set, from /proc/self/statm.
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let pages = text.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
