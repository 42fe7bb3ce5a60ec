import Foundation
import PortCatalog
import PortContract
import Testing

/// Port's query language, operator by operator, over a small catalog; the emulator's
/// choices where Port is silent (fixtures/README.md) are cases of their own.
@Suite("The query engine", .timeLimit(.minutes(10)))
struct QueryEngineTests {
    /// environments prod, staging, dev; services api, worker, cron; deployments d1, d2.
    static func catalog() throws -> TestCatalog {
        var catalog = try TestCatalog()
        try catalog.put("environment", "prod", properties: ["region": "eu", "tier": 1])
        try catalog.put("environment", "staging", properties: ["region": "us", "tier": 2])
        try catalog.put("environment", "dev")
        try catalog.put(
            "service",
            "api",
            properties: [
                "version": "1.2.0", "replicas": 3, "tags": ["web", "public"], "url": "https://api.example.com",
                "owner": "Team-A", "released": "2023-11-10T00:00:00Z", "critical": true,
                "ttl": .string(PortTimestamp.format(TestCatalog.epoch.addingTimeInterval(-86_400)).stringValue!),
            ],
            relations: ["environment": "prod"],
            title: "API",
            team: "platform"
        )
        try catalog.put(
            "service",
            "worker",
            properties: [
                "version": "2.0.0", "replicas": 1, "tags": ["batch"], "owner": "team-b",
                "ttl": .string(PortTimestamp.format(TestCatalog.epoch.addingTimeInterval(864_000)).stringValue!),
            ],
            relations: ["environment": "staging", "dependsOn": ["api"]],
            team: ["platform", "data"]
        )
        try catalog.put("service", "cron", properties: ["tags": [], "owner": ""], title: "Cron")
        try catalog.put(
            "deployment",
            "d1",
            properties: ["status": "success"],
            relations: ["service": "api", "environment": "prod"]
        )
        try catalog.put("deployment", "d2", properties: ["status": "failed"], relations: ["service": "worker"])
        return catalog
    }

    static let cases: [(rule: String, expected: [String])] = [
        (#"{"property":"version","operator":"=","value":"1.2.0"}"#, ["api"]),
        // Choice: `=` compares whole values, so a scalar never equals an array property…
        (#"{"property":"tags","operator":"=","value":"web"}"#, []),
        // …and an array equals an array with the same items in the same order.
        (#"{"property":"tags","operator":"=","value":["web","public"]}"#, ["api"]),
        // Choice: `= null` matches a property that is null or not set.
        (#"{"property":"version","operator":"=","value":null}"#, ["cron"]),
        (#"{"property":"version","operator":"!=","value":"1.2.0"}"#, ["cron", "worker"]),
        // Choice: string comparisons are case-sensitive.
        (#"{"property":"owner","operator":"=","value":"team-a"}"#, []),
        (#"{"property":"version","operator":"in","value":["1.2.0","2.0.0"]}"#, ["api", "worker"]),
        (#"{"property":"version","operator":"notIn","value":["1.2.0","2.0.0"]}"#, ["cron"]),
        // Choice: `in` on an array property holds when any item is in the list.
        (#"{"property":"tags","operator":"in","value":["batch"]}"#, ["worker"]),
        (#"{"property":"tags","operator":"containsAny","value":["batch","web"]}"#, ["api", "worker"]),
        // Choice: `containsAny` on a string property holds when it contains any of the strings.
        (#"{"property":"owner","operator":"containsAny","value":["-b","zz"]}"#, ["worker"]),
        (#"{"property":"url","operator":"contains","value":"example"}"#, ["api"]),
        // Choice: negated string operators hold on a property that is not set.
        (#"{"property":"url","operator":"doesNotContains","value":"example"}"#, ["cron", "worker"]),
        (#"{"property":"owner","operator":"beginsWith","value":"Team"}"#, ["api"]),
        (#"{"property":"owner","operator":"doesNotBeginsWith","value":"Team"}"#, ["cron", "worker"]),
        (#"{"property":"version","operator":"endsWith","value":".0"}"#, ["api", "worker"]),
        (#"{"property":"version","operator":"doesNotEndsWith","value":".0"}"#, ["cron"]),
        // Choice: `contains` on an array property holds when an item contains the string.
        (#"{"property":"tags","operator":"contains","value":"ubl"}"#, ["api"]),
        (#"{"property":"replicas","operator":">","value":2}"#, ["api"]),
        (#"{"property":"replicas","operator":">=","value":1}"#, ["api", "worker"]),
        (#"{"property":"replicas","operator":"<","value":3}"#, ["worker"]),
        (#"{"property":"replicas","operator":"<=","value":3.0}"#, ["api", "worker"]),
        (#"{"property":"released","operator":">","value":"2023-01-01T00:00:00Z"}"#, ["api"]),
        (
            #"{"property":"released","operator":"between","value":{"from":"2023-11-01T00:00:00Z","to":"2023-11-30T00:00:00Z"}}"#,
            ["api"]
        ),
        // Choice: a date rule never holds on a property that is not a date (notBetween too).
        (
            #"{"property":"released","operator":"notBetween","value":{"from":"2024-01-01T00:00:00Z","to":"2024-02-01T00:00:00Z"}}"#,
            ["api"]
        ),
        (#"{"property":"$createdAt","operator":"between","value":{"preset":"lastDay"}}"#, ["api", "cron", "worker"]),
        (#"{"property":"$createdAt","operator":"=","value":{"preset":"today"}}"#, ["api", "cron", "worker"]),
        (#"{"property":"$createdAt","operator":"between","value":{"preset":"tomorrow"}}"#, []),
        (#"{"property":"$createdAt","operator":"between","value":{"preset":"yesterday"}}"#, []),
        // Choice: missing, null and [] are empty; "" is a value.
        (#"{"property":"owner","operator":"isEmpty"}"#, []),
        (#"{"property":"owner","operator":"isNotEmpty"}"#, ["api", "cron", "worker"]),
        (#"{"property":"tags","operator":"isEmpty"}"#, ["cron"]),
        (#"{"property":"version","operator":"isEmpty"}"#, ["cron"]),
        (#"{"property":"version","operator":"isNotEmpty"}"#, ["api", "worker"]),
        (#"{"property":"ttl","operator":"isExpired"}"#, ["api"]),
        // Choice: a property that is not set has not expired.
        (#"{"property":"ttl","operator":"isNotExpired"}"#, ["cron", "worker"]),
        (#"{"property":"critical","operator":"=","value":true}"#, ["api"]),
        // A relation reads as the identifier(s) it holds.
        (#"{"property":"environment","operator":"=","value":"prod"}"#, ["api"]),
        (#"{"property":"dependsOn","operator":"containsAny","value":["api"]}"#, ["worker"]),
        (#"{"property":"$identifier","operator":"=","value":"api"}"#, ["api"]),
        (#"{"property":"$title","operator":"=","value":"API"}"#, ["api"]),
        // An entity created without a title takes its identifier as its title.
        (#"{"property":"$title","operator":"=","value":"worker"}"#, ["worker"]),
        (#"{"property":"$blueprint","operator":"=","value":"service"}"#, ["api", "cron", "worker"]),
        (#"{"property":"$team","operator":"=","value":"platform"}"#, ["api"]),
        (#"{"property":"$team","operator":"in","value":["data"]}"#, ["worker"]),
        (#"{"property":"$icon","operator":"isEmpty"}"#, ["api", "cron", "worker"]),
        (#"{"property":"$createdBy","operator":"=","value":"tester"}"#, ["api", "cron", "worker"]),
        (#"{"property":"$updatedBy","operator":"!=","value":"tester"}"#, []),
        (#"{"property":"$createdAt","operator":">","value":"2023-11-14T22:13:24Z"}"#, ["cron", "worker"]),
        (#"{"property":"$updatedAt","operator":"<=","value":"2023-11-14T22:13:24Z"}"#, ["api"]),
        // relatedTo goes through any number of relations: worker depends on api, which is in prod.
        (#"{"operator":"relatedTo","blueprint":"environment","value":"prod"}"#, ["api", "worker"]),
        (
            #"{"operator":"relatedTo","blueprint":"environment","value":["prod","staging"],"direction":"downstream"}"#,
            ["api", "worker"]
        ),
        (#"{"operator":"relatedTo","blueprint":"environment","value":"prod","direction":"upstream"}"#, []),
        (#"{"operator":"relatedTo","blueprint":"deployment","value":"d2","direction":"upstream"}"#, ["api", "worker"]),
        (#"{"operator":"relatedTo","blueprint":"environment","value":"prod","required":true}"#, []),
        (#"{"operator":"relatedTo","blueprint":"environment","value":"prod","required":false}"#, ["api", "worker"]),
        (#"{"operator":"relatedTo","blueprint":"service","value":"api"}"#, ["worker"]),
        (#"{"property":{"path":["environment"]},"operator":"matchAny","value":"prod"}"#, ["api"]),
        (#"{"property":{"path":["dependsOn","environment"]},"operator":"matchAny","value":["prod"]}"#, ["worker"]),
        (
            #"{"property":{"path":[{"relation":"dependsOn","maxHops":3}]},"operator":"matchAny","value":"api"}"#,
            ["worker"]
        ),
        (#"{"relation":"environment","targetProperty":"region","operator":"=","value":"eu"}"#, ["api"]),
        (#"{"relation":"environment","operator":"in","value":["staging"]}"#, ["worker"]),
        (#"{"relation":"environment","targetProperty":"$title","operator":"isEmpty"}"#, ["cron"]),
        // Older spellings of Port's docs.
        (#"{"property":"url","operator":"doesNotContain","value":"example"}"#, ["cron", "worker"]),
        (#"{"property":"tags","operator":"matchAny","value":["batch","none"]}"#, ["worker"]),
        (#"{"propertySchema":{"type":"string","format":"url"},"operator":"contains","value":"api."}"#, ["api"]),
        (#"{"propertySchema":{"type":"string"},"operator":"=","value":"team-b"}"#, ["worker"]),
        (#"{"combinator":"and","rules":[]}"#, ["api", "cron", "worker"]),
        (#"{"combinator":"or","rules":[]}"#, []),
        (
            #"{"combinator":"or","rules":[{"property":"version","operator":"=","value":"1.2.0"},{"combinator":"and","rules":[{"property":"owner","operator":"beginsWith","value":"team"},{"property":"replicas","operator":"<","value":2}]}]}"#,
            ["api", "worker"]
        ),
        (
            #"{"combinator":"and","rules":[{"property":"$blueprint","operator":"=","value":"service"},{"combinator":"or","rules":[{"property":"environment","operator":"=","value":"prod"},{"property":"environment","operator":"=","value":"staging"}]}]}"#,
            ["api", "worker"]
        ),
    ]

    @Test("each operator and meta-property selects the entities Port's docs say", arguments: cases)
    func operatorSelects(rule: String, expected: [String]) throws {
        let catalog = try Self.catalog()
        #expect(try catalog.search(rule, in: ["service"]) == expected, "\(rule)")
    }

    @Test("a search without a blueprint scope reads every blueprint, or the one $blueprint names")
    func crossBlueprintSearch() throws {
        let catalog = try Self.catalog()
        #expect(
            try catalog.search(#"{"combinator":"and","rules":[{"property":"region","operator":"isNotEmpty"}]}"#) == [
                "prod", "staging",
            ]
        )
        #expect(
            try catalog.search(
                #"{"combinator":"and","rules":[{"operator":"relatedTo","blueprint":"environment","value":"prod"}]}"#
            )
                == ["api", "d1", "d2", "worker"]
        )
        let query = try Query(
            parsing: try JSONValue.parse(
                #"{"combinator":"and","rules":[{"property":"$blueprint","operator":"in","value":["deployment","environment"]}]}"#
            ),
            at: "body"
        )
        #expect(catalog.reader.scope(of: query) == ["deployment", "environment"])
    }

    static let malformed: [(rule: String, message: String)] = [
        (#"{"combinator":"xor","rules":[]}"#, "body.combinator must be \"and\" or \"or\""),
        (#"{"combinator":"and"}"#, "body.rules must be an array"),
        (
            #"{"combinator":"and","rules":[{"property":"a","operator":"~","value":1}]}"#,
            "body.rules[0].operator \"~\" is not one of"
        ),
        (#"{"combinator":"and","rules":[{"property":"a","operator":"="}]}"#, "body.rules[0].value is required"),
        (#"{"combinator":"and","rules":[{"property":"a","value":1}]}"#, "body.rules[0].operator is required"),
        (#"{"combinator":"and","rules":[{"operator":"=","value":1}]}"#, "body.rules[0].property is required"),
        (
            #"{"combinator":"and","rules":[{"property":"a","operator":"in","value":"x"}]}"#,
            "body.rules[0].value must be an array"
        ),
        (
            #"{"combinator":"and","rules":[{"property":"a","operator":"contains","value":1}]}"#,
            "body.rules[0].value must be a string"
        ),
        (
            #"{"combinator":"and","rules":[{"property":"a","operator":">","value":"soon"}]}"#,
            "must be a number or an ISO-8601 date-time"
        ),
        (
            #"{"combinator":"and","rules":[{"property":"a","operator":"between","value":{"from":"x","to":"y"}}]}"#,
            "must be {from, to}"
        ),
        (
            #"{"combinator":"and","rules":[{"property":"a","operator":"between","value":{"preset":"someday"}}]}"#,
            "preset must be one of"
        ),
        (
            #"{"combinator":"and","rules":[{"operator":"relatedTo","value":"x"}]}"#,
            "body.rules[0].blueprint is required"
        ),
        (
            #"{"combinator":"and","rules":[{"operator":"relatedTo","blueprint":"b","value":"x","direction":"sideways"}]}"#,
            "direction must be upstream or downstream"
        ),
        (
            #"{"combinator":"and","rules":[{"property":"a","operator":"=","value":1,"extra":true}]}"#,
            "body.rules[0].extra is not allowed here"
        ),
        (
            #"{"combinator":"or","rules":[{"combinator":"and","rules":[{"property":"a","operator":"isEmpty","value":1}]}]}"#,
            "body.rules[0].rules[0].value is not allowed here"
        ),
        (
            #"{"combinator":"and","rules":[{"property":{"property":"email","context":"user"},"operator":"=","value":1}]}"#,
            "user's context"
        ),
        ("[]", "body must be an object"),
    ]

    @Test("a malformed rule is 422 invalid_request naming the rule", arguments: malformed)
    func malformedRule(rule: String, message: String) throws {
        #expect {
            _ = try Query(parsing: try JSONValue.parse(rule), at: "body")
        } throws: { error in
            guard let error = error as? PortError else { return false }
            return error.status == 422 && error.code == "invalid_request" && error.message.contains(message)
        }
    }

    @Test("relatedTo names a blueprint that must exist")
    func relatedToUnknownBlueprint() throws {
        let catalog = try Self.catalog()
        #expect(throws: PortError.blueprintNotFound("nope")) {
            _ = try catalog.search(#"{"operator":"relatedTo","blueprint":"nope","value":"x"}"#)
        }
    }

    @Test("date presets cover Port's ranges around now (UTC days, or the last N days)")
    func presets() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)  // 2023-11-14T22:13:20Z
        let midnight = Date(timeIntervalSince1970: 1_699_920_000)
        let (todayFrom, todayTo) = CatalogReader.interval(.preset(.today), now: now)
        #expect(todayFrom == midnight && todayTo == midnight.addingTimeInterval(86_399.999))
        let (weekFrom, weekTo) = CatalogReader.interval(.preset(.lastWeek), now: now)
        #expect(weekFrom == now.addingTimeInterval(-7 * 86_400) && weekTo == now)
        let (yearFrom, _) = CatalogReader.interval(.preset(.last12Months), now: now)
        #expect(yearFrom == now.addingTimeInterval(-365 * 86_400))
    }
}
