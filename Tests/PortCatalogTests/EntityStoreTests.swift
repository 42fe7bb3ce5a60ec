import Foundation
import PortCatalog
import PortContract
import Testing

/// Relations as Port enforces them, computed properties, projection and paging, on the
/// store itself (no HTTP).
@Suite("The entity store", .timeLimit(.minutes(10)))
struct EntityStoreTests {
    @Test("a relation to a missing entity is 404, unless create_missing_related_entities creates it")
    func missingTarget() throws {
        var catalog = try TestCatalog()
        #expect(throws: PortError.relatedEntityNotFound("prod", blueprint: "environment", relation: "environment")) {
            try catalog.put("service", "api", relations: ["environment": "prod"])
        }
        #expect(catalog.store.count == 0, "a refused write stores nothing")
        let changes = try catalog.put(
            "service",
            "api",
            relations: ["environment": "prod"],
            createMissing: true,
            runID: "r_1"
        )
        #expect(changes.map(\.kind) == [.create, .create])
        #expect(changes.map { $0.after?.identifier } == ["prod", "api"])
        #expect(changes.allSatisfy { $0.runID == "r_1" })
        let created = try #require(catalog.store.entity("prod", of: "environment"))
        #expect(created.properties.isEmpty && created.relations.isEmpty && created.title == "prod")
    }

    @Test("a required relation must be set, and many must match the value's shape")
    func requiredAndMany() throws {
        var catalog = try TestCatalog()
        try catalog.put("service", "api")
        #expect(throws: PortError.requiredRelation("service", blueprint: "deployment")) {
            try catalog.put("deployment", "d1")
        }
        #expect(throws: PortError.requiredRelation("service", blueprint: "deployment")) {
            try catalog.put("deployment", "d1", relations: ["service": nil])
        }
        #expect(throws: PortError.relationManyViolation("service", many: false)) {
            try catalog.put("deployment", "d1", relations: ["service": ["api"]])
        }
        #expect(throws: PortError.relationManyViolation("dependsOn", many: true)) {
            try catalog.put("service", "worker", relations: ["dependsOn": "api"])
        }
        try catalog.put("deployment", "d1", relations: ["service": "api"])
        try catalog.put("service", "worker", relations: ["dependsOn": ["api", "worker"]])
        #expect(catalog.store.links(to: EntityKey(blueprint: "service", identifier: "api")).count == 2)
    }

    @Test("a blueprint relation that is both required and many is refused")
    func requiredManyBlueprint() throws {
        var catalog = try TestCatalog()
        #expect(throws: PortError.self) {
            try catalog.add([
                "identifier": "x", "relations": ["r": ["target": "service", "required": true, "many": true]],
            ])
        }
    }

    @Test("deleting the target of a required relation is 403; delete_dependents deletes the sources first")
    func dependents() throws {
        var catalog = try TestCatalog()
        try catalog.put("environment", "prod")
        try catalog.put("service", "api", relations: ["environment": "prod"])
        try catalog.put("service", "worker", relations: ["dependsOn": ["api"]])
        try catalog.put("deployment", "d1", relations: ["service": "api", "environment": "prod"])
        try catalog.put("deployment", "d2", relations: ["service": "api"])
        let api = EntityKey(blueprint: "service", identifier: "api")
        #expect(
            throws: PortError.hasDependents(
                "api",
                blueprint: "service",
                dependents: [
                    EntityKey(blueprint: "deployment", identifier: "d1"),
                    EntityKey(blueprint: "deployment", identifier: "d2"),
                ]
            )
        ) {
            try catalog.store.delete(api, models: catalog.models, deleteDependents: false, runID: nil)
        }
        #expect(catalog.store.count == 5)
        let changes = try catalog.store.delete(api, models: catalog.models, deleteDependents: true, runID: "r_9")
        #expect(changes.map { $0.before?.identifier } == ["d2", "d1", "api"])
        #expect(changes.allSatisfy { $0.kind == .delete && $0.runID == "r_9" })
        // An optional relation to a deleted entity is cleared, without a change of its own.
        #expect(catalog.store.entity("worker", of: "service")?.relations["dependsOn"] == [])
        // Deleting prod, which only optional relations pointed at, needs no flag.
        try catalog.put("service", "api", relations: ["environment": "prod"])
        let prod = try catalog.store.delete(
            EntityKey(blueprint: "environment", identifier: "prod"),
            models: catalog.models,
            deleteDependents: false,
            runID: nil
        )
        #expect(prod.count == 1)
        #expect(catalog.store.entity("api", of: "service")?.relations["environment"] == .null)
    }

    @Test("an entity that is not there is 404 on delete")
    func deleteMissing() throws {
        var catalog = try TestCatalog()
        #expect(throws: PortError.entityNotFound("x", blueprint: "service")) {
            try catalog.store.delete(
                EntityKey(blueprint: "service", identifier: "x"),
                models: catalog.models,
                deleteDependents: true,
                runID: nil
            )
        }
    }

    static let computed: JSONObject = [
        "mirrorProperties": [
            "region": ["path": "environment.region"], "envTitle": ["path": "environment.$title"],
            "dependencyReplicas": ["path": "dependsOn.replicas"],
        ],
        "calculationProperties": [
            "label": ["type": "string", "calculation": ".identifier + \"@\" + (.properties.region // \"nowhere\")"],
            "doubled": ["type": "number", "calculation": "(.properties.replicas // 0) * 2"],
        ],
        "aggregationProperties": [
            "deployments": [
                "target": "deployment", "calculationSpec": ["calculationBy": "entities", "func": "count"],
            ],
            "failed": [
                "target": "deployment", "calculationSpec": ["calculationBy": "entities", "func": "count"],
                "query": ["combinator": "and", "rules": [["property": "status", "operator": "=", "value": "failed"]]],
            ],
        ],
    ]

    @Test("mirror, calculation and aggregation properties follow the related entities")
    func computedProperties() throws {
        var catalog = try TestCatalog(extraServiceDefinition: Self.computed)
        try catalog.put("environment", "prod", properties: ["region": "eu"], title: "Production")
        try catalog.put("service", "api", properties: ["replicas": 3], relations: ["environment": "prod"])
        try catalog.put("deployment", "d1", properties: ["status": "failed"], relations: ["service": "api"])
        try catalog.put("deployment", "d2", properties: ["status": "ok"], relations: ["service": "api"])
        var properties = try #require(catalog.reader.render(catalog.store.entity("api", of: "service")!)["properties"])
        #expect(properties["region"] == "eu" && properties["envTitle"] == "Production")
        #expect(properties["label"] == "api@eu", "a calculation sees the mirror properties")
        #expect(properties["doubled"] == 6 && properties["deployments"] == 2 && properties["failed"] == 1)
        try catalog.put("environment", "prod", properties: ["region": "us"], title: "Production")
        try catalog.put("deployment", "d2", properties: ["status": "failed"], relations: ["service": "api"])
        properties = try #require(catalog.reader.render(catalog.store.entity("api", of: "service")!)["properties"])
        #expect(properties["region"] == "us" && properties["label"] == "api@us" && properties["failed"] == 2)
        // A mirror through a many relation is a list, empty when the relation is.
        #expect(properties["dependencyReplicas"] == [])
        try catalog.put("service", "worker", properties: ["replicas": 1], relations: ["dependsOn": ["api", "worker"]])
        let worker = try #require(catalog.reader.render(catalog.store.entity("worker", of: "service")!)["properties"])
        #expect(worker["dependencyReplicas"] == [3, 1] && worker["region"] == .null)
        // Search rules read computed properties too.
        #expect(try catalog.search(#"{"property":"failed","operator":">=","value":2}"#, in: ["service"]) == ["api"])
        #expect(try catalog.search(#"{"property":"region","operator":"=","value":"us"}"#, in: ["service"]) == ["api"])
        var titled = EntityReadOptions()
        titled.attachIdentifierToTitleMirrorProperties = true
        #expect(
            catalog.reader.render(catalog.store.entity("api", of: "service")!, titled)["properties"]?["envTitle"]
                == ["identifier": "prod", "title": "Production"]
        )
        var options = EntityReadOptions()
        options.excludeCalculatedProperties = true
        #expect(
            catalog.reader.render(catalog.store.entity("api", of: "service")!, options)["properties"] == ["replicas": 3]
        )
    }

    @Test("a broken calculation or a mirror path that starts elsewhere is refused with the blueprint")
    func badComputedDefinitions() throws {
        #expect(throws: PortError.self) {
            _ = try TestCatalog(extraServiceDefinition: ["calculationProperties": ["x": ["calculation": ".a +"]]])
        }
        #expect(throws: PortError.self) {
            _ = try TestCatalog(extraServiceDefinition: ["mirrorProperties": ["x": ["path": "nothing.region"]]])
        }
        #expect(throws: PortError.self) {
            _ = try TestCatalog(extraServiceDefinition: [
                "aggregationProperties": ["x": ["target": "deployment", "calculationSpec": ["func": "count"]]]
            ])
        }
    }

    @Test("include, exclude and attach_title_to_relation shape what a read returns")
    func projection() throws {
        var catalog = try TestCatalog()
        try catalog.put("environment", "prod", title: "Production")
        try catalog.put(
            "service",
            "api",
            properties: ["version": "1", "owner": "a"],
            relations: ["environment": "prod", "dependsOn": []]
        )
        let api = try #require(catalog.store.entity("api", of: "service"))
        var options = EntityReadOptions()
        options.include = ["$identifier", "properties.version", "environment"]
        #expect(
            catalog.reader.render(api, options) == [
                "identifier": "api", "properties": ["version": "1"], "relations": ["environment": "prod"],
            ]
        )
        options = EntityReadOptions()
        options.exclude = ["owner", "relations", "$createdAt", "createdBy"]
        let excluded = try #require(catalog.reader.render(api, options).objectValue)
        #expect(excluded["relations"] == nil && excluded["createdAt"] == nil && excluded["createdBy"] == nil)
        #expect(excluded["properties"] == ["version": "1"] && excluded["updatedAt"] != nil)
        options = EntityReadOptions()
        options.attachTitleToRelation = true
        #expect(
            catalog.reader.render(api, options)["relations"]
                == ["environment": ["identifier": "prod", "title": "Production"], "dependsOn": []]
        )
    }

    @Test("a clean-up that deletes each page before asking for the next reaches every entity")
    func pagingWhileDeleting() throws {
        var catalog = try TestCatalog()
        for index in 0..<30 { try catalog.put("service", "s\(index)") }
        var handedOut: [String] = []
        var cursor: String?
        repeat {
            let page = try catalog.reader.page(of: "service", matching: nil, limit: 7, from: cursor)
            handedOut += page.entities.map(\.identifier)
            for entity in page.entities {
                _ = try catalog.store.delete(
                    EntityKey(blueprint: "service", identifier: entity.identifier),
                    models: catalog.models,
                    deleteDependents: false,
                    runID: nil
                )
            }
            // An entity created meanwhile comes after the cursor, once.
            if handedOut.count == 7 { try catalog.put("service", "late") }
            cursor = page.next
        } while cursor != nil
        #expect(handedOut == (0..<30).map { "s\($0)" } + ["late"])
        #expect(catalog.store.count == 0)
    }

    @Test("paging a blueprint returns every matching entity exactly once, in creation order")
    func paging() throws {
        var catalog = try TestCatalog()
        for index in 0..<1_050 {
            try catalog.put("service", "s\(index)", properties: ["replicas": .int(Int64(index % 3))])
        }
        for limit in [1_000, 200, 7] {
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try catalog.reader.page(of: "service", matching: nil, limit: limit, from: cursor)
                #expect(page.entities.count <= limit)
                seen += page.entities.map(\.identifier)
                cursor = page.next
            } while cursor != nil
            #expect(seen == (0..<1_050).map { "s\($0)" }, "limit \(limit)")
        }
        let query = try Query(
            parsing: try JSONValue.parse(
                #"{"combinator":"and","rules":[{"property":"replicas","operator":"=","value":1}]}"#
            ),
            at: "body"
        )
        var matched: [String] = []
        var cursor: String?
        repeat {
            let page = try catalog.reader.page(of: "service", matching: query, limit: 100, from: cursor)
            matched += page.entities.map(\.identifier)
            cursor = page.next
        } while cursor != nil
        #expect(matched == stride(from: 1, to: 1_050, by: 3).map { "s\($0)" })
        // The last page is exactly full: no next, no empty page after it.
        let exact = try catalog.reader.page(of: "service", matching: nil, limit: 1_000, from: nil)
        let rest = try catalog.reader.page(of: "service", matching: nil, limit: 50, from: exact.next)
        #expect(rest.entities.count == 50 && rest.next == nil)
        // A cursor survives the deletion of the entity it points after.
        _ = try catalog.store.delete(
            EntityKey(blueprint: "service", identifier: "s999"),
            models: catalog.models,
            deleteDependents: false,
            runID: nil
        )
        let after = try catalog.reader.page(of: "service", matching: nil, limit: 1, from: exact.next)
        #expect(after.entities.map(\.identifier) == ["s1000"])
        #expect(throws: PortError.self) {
            _ = try catalog.reader.page(of: "service", matching: nil, limit: 1, from: "not-a-cursor")
        }
        #expect(throws: PortError.self) {
            _ = try catalog.reader.page(of: "environment", matching: nil, limit: 1, from: exact.next)
        }
    }
}
