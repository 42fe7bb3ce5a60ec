public import PortContract

/// A scorecard of a blueprint: levels, and rules that an entity must pass to reach each.
///
/// **Emulator choices** (`fixtures/README.md`): without `levels`, Port's defaults (Basic,
/// Bronze, Silver, Gold); an entity is at the first level, and at the highest level with
/// rules whose rules, and those of every level below, all pass (a level without rules is
/// never reached on its own: Port's "didn't pass any rule: Basic"); a rule's `query` is
/// `{combinator, conditions}` read as a search query (`{relation, …}` conditions read the
/// relation's identifiers); entities outside the `filter` have no result for it.
public struct Scorecard: Sendable {
    /// One rule: the level it counts for, and its query.
    public struct Rule: Sendable {
        /// The rule's identifier.
        public let identifier: String
        /// The level it counts for.
        public let level: String
        /// What an entity must match.
        public let query: Query
    }

    /// The scorecard's identifier, unique within its blueprint.
    public let identifier: String
    /// The blueprint it scores.
    public let blueprint: String
    /// The levels' titles, lowest first.
    public let levels: [String]
    /// The rules.
    public let rules: [Rule]
    /// Which entities it scores (`nil`: all).
    public let filter: Query?
    /// The scorecard as the API shows it (with Port's defaults filled in).
    public var definition: JSONObject

    /// Port's levels when a scorecard names none.
    public static let defaultLevels: JSONValue = [
        ["title": "Basic", "color": "paleBlue"], ["title": "Bronze", "color": "bronze"],
        ["title": "Silver", "color": "silver"], ["title": "Gold", "color": "gold"],
    ]

    /// Reads a scorecard body of `blueprint`: 422 `invalid_request` naming what is wrong.
    public init(body: JSONValue, blueprint: String, at location: String = "body") throws(PortError) {
        let object = try body.object(allowing: [
            "identifier", "title", "rules", "filter", "levels", "properties", "blueprint", "id", "createdAt",
            "createdBy", "updatedAt", "updatedBy",
        ])
        guard let identifier = object["identifier"]?.stringValue, PortIdentifierRules.isValid(identifier),
            identifier.count <= 100
        else {
            throw .invalidRequest("\(location).identifier is required (an identifier of at most 100 characters)")
        }
        guard object["title"]?.stringValue != nil else { throw .invalidRequest("\(location).title is required") }
        if let named = object["blueprint"]?.stringValue, named != blueprint {
            throw .invalidRequest("\(location).blueprint \"\(named)\" differs from the path's \"\(blueprint)\"")
        }
        let levels = object["levels"] ?? Self.defaultLevels
        guard let levelList = levels.arrayValue, !levelList.isEmpty else {
            throw .invalidRequest("\(location).levels must be a non-empty array of {title, color}")
        }
        var titles: [String] = []
        for (index, level) in levelList.enumerated() {
            guard let title = level["title"]?.stringValue, level["color"]?.stringValue != nil else {
                throw .invalidRequest("\(location).levels[\(index)] needs a title and a color")
            }
            titles.append(title)
        }
        guard let ruleList = object["rules"]?.arrayValue else {
            throw .invalidRequest("\(location).rules is required (an array of rules)")
        }
        var rules: [Rule] = []
        for (index, rule) in ruleList.enumerated() {
            let at = "\(location).rules[\(index)]"
            let fields = try rule.object(allowing: ["identifier", "title", "level", "query", "description"])
            guard let ruleIdentifier = fields["identifier"]?.stringValue, fields["title"]?.stringValue != nil else {
                throw .invalidRequest("\(at) needs an identifier and a title")
            }
            guard let level = fields["level"]?.stringValue, titles.contains(level) else {
                throw .invalidRequest(
                    "\(at).level must be one of the scorecard's levels (\(titles.joined(separator: ", ")))"
                )
            }
            guard let query = fields["query"] else { throw .invalidRequest("\(at).query is required") }
            rules.append(
                Rule(identifier: ruleIdentifier, level: level, query: try Self.query(query, at: "\(at).query"))
            )
        }
        self.identifier = identifier
        self.blueprint = blueprint
        self.levels = titles
        self.rules = rules
        filter = try object["filter"].map { (value) throws(PortError) in try Self.query(value, at: "\(location).filter")
        }
        var definition = object
        definition["blueprint"] = .string(blueprint)
        definition["levels"] = levels
        definition["filter"] = object["filter"]
        self.definition = definition
    }

    /// `{combinator, conditions}` as a search query.
    private static func query(_ value: JSONValue, at location: String) throws(PortError) -> Query {
        let object = try value.object(allowing: ["combinator", "conditions"])
        guard let conditions = object["conditions"]?.arrayValue, !conditions.isEmpty else {
            throw .invalidRequest("\(location).conditions must be a non-empty array")
        }
        let rules = conditions.map { condition -> JSONValue in
            guard var rule = condition.objectValue, let relation = rule["relation"] else { return condition }
            rule["relation"] = nil
            rule["property"] = relation
            return .object(rule)
        }
        let group: JSONValue = ["combinator": object["combinator"] ?? "and", "rules": .array(rules)]
        return try Query(parsing: group, at: location)
    }
}

extension CatalogReader {
    /// The entity's results for its blueprint's scorecards, by scorecard identifier: each
    /// rule's status and the level reached (`nil` when the blueprint has none).
    public func scorecards(of entity: Entity) -> JSONValue? {
        guard let model = models[entity.blueprint], !model.scorecards.isEmpty else { return nil }
        var results = JSONObject()
        for scorecard in model.scorecards {
            if let filter = scorecard.filter, !((try? prepare(filter)).map { matches($0, entity) } ?? false) {
                continue
            }
            var passed: [String: Bool] = [:]
            var rules: [JSONValue] = []
            for rule in scorecard.rules {
                let success = (try? prepare(rule.query)).map { matches($0, entity) } ?? false
                passed[rule.level] = (passed[rule.level] ?? true) && success
                rules.append([
                    "identifier": .string(rule.identifier), "status": success ? "SUCCESS" : "FAILURE",
                    "level": .string(rule.level),
                ])
            }
            var level = scorecard.levels[0]
            for next in scorecard.levels.dropFirst() {
                guard let passes = passed[next] else { continue }  // a level without rules is no step
                guard passes else { break }
                level = next
            }
            results[scorecard.identifier] = ["rules": .array(rules), "level": .string(level)]
        }
        return .object(results)
    }
}
