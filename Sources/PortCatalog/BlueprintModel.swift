import JQ
public import PortContract

/// One relation of a blueprint: `relations.{id} = {title, target, required, many}`.
public struct RelationDefinition: Sendable, Equatable {
    /// The relation's identifier.
    public let identifier: String
    /// The blueprint its targets belong to.
    public let target: String
    /// Whether every entity must set it.
    public let required: Bool
    /// Whether it holds a list of identifiers (`true`) or one.
    public let many: Bool
}

/// A mirror property: a path through single or many relations to a property of the last
/// entity reached (`env.region`, `service.env.$title`).
public struct MirrorProperty: Sendable, Equatable {
    /// The property's identifier.
    public let identifier: String
    /// The relations followed, in order.
    public let relations: [String]
    /// The property (or `$`meta-property) read at the end.
    public let property: String
}

/// A calculation property: a jq expression over the entity's JSON.
public struct CalculationProperty: Sendable, Equatable {
    /// The property's identifier.
    public let identifier: String
    /// The jq source.
    public let calculation: String
    /// The declared `type`, if any.
    public let type: String?
}

/// An aggregation property: a function over the entities of `target` related to the entity.
public struct AggregationProperty: Sendable, Equatable {
    /// What is computed.
    public enum Function: Sendable, Equatable {
        /// How many related entities match.
        case count
        /// The average number of matching entities per `unit` (`hour`, `day`, `week`,
        /// `month`) since the oldest, measured by `measureTimeBy`.
        case averageOfEntities(unit: String, measureTimeBy: String)
        /// `sum`, `average`, `min`, `max` or `median` of a numeric property.
        case ofProperty(String, property: String)
    }

    /// The property's identifier.
    public let identifier: String
    /// The blueprint of the entities aggregated.
    public let target: String
    /// What is computed.
    public let function: Function
    /// Which related entities count (none: all).
    public let query: Query?
}

/// A blueprint with its relations and computed properties read and checked: what the
/// catalog needs to enforce relations and compute properties on reads.
public struct BlueprintModel: Sendable {
    /// The blueprint as stored.
    public let blueprint: Blueprint
    /// Its relations, by identifier.
    public let relations: [String: RelationDefinition]
    /// Its mirror properties, in definition order.
    public let mirrors: [MirrorProperty]
    /// Its calculation properties, in definition order.
    public let calculations: [CalculationProperty]
    /// Its aggregation properties, in definition order.
    public let aggregations: [AggregationProperty]

    /// The blueprint's identifier.
    public var identifier: String { blueprint.identifier }
    /// The blueprint's scorecards, in the order added (kept by the catalog, which owns them).
    public var scorecards: [Scorecard] = []

    /// Whether it has any computed property.
    public var hasComputedProperties: Bool { !(mirrors.isEmpty && calculations.isEmpty && aggregations.isEmpty) }

    /// The identifiers of its computed properties.
    public var computedIdentifiers: Set<String> {
        Set(mirrors.map(\.identifier) + calculations.map(\.identifier) + aggregations.map(\.identifier))
    }

    private static let aggregationFunctions: Set<String> = ["sum", "average", "min", "max", "median"]
    private static let averageUnits: Set<String> = ["hour", "day", "week", "month"]

    /// Reads `relations`, `mirrorProperties`, `calculationProperties` and
    /// `aggregationProperties` of `blueprint`; a malformed one is 422 naming it. The jq of
    /// calculations is compiled here, so a broken one is refused when the blueprint is created.
    public init(_ blueprint: Blueprint) throws(PortError) {
        self.blueprint = blueprint
        let definition = blueprint.definition
        var relations: [String: RelationDefinition] = [:]
        for (name, value) in try Self.section(definition, "relations") {
            let path = "body.relations.\(name)"
            guard let object = value.objectValue else { throw .invalidRequest("\(path) must be an object") }
            guard let target = object["target"]?.stringValue, !target.isEmpty else {
                throw .invalidRequest("\(path).target is required: the identifier of a blueprint")
            }
            for key in ["required", "many"] {
                if let flag = object[key], flag.boolValue == nil {
                    throw .invalidRequest("\(path).\(key) must be a boolean, not \(flag.typeName)")
                }
            }
            if object["required"]?.boolValue == true, object["many"]?.boolValue == true {
                throw .invalidRequest("\(path): a relation cannot be both required and many (Port refuses it)")
            }
            relations[name] = RelationDefinition(
                identifier: name,
                target: target,
                required: object["required"]?.boolValue ?? false,
                many: object["many"]?.boolValue ?? false
            )
        }
        self.relations = relations
        var used = Set(blueprint.schema.properties.keys)
        func claim(_ name: String, _ path: String) throws(PortError) {
            guard used.insert(name).inserted, relations[name] == nil else {
                throw .invalidRequest("\(path): \"\(name)\" is already a property or relation of the blueprint")
            }
        }
        var mirrors: [MirrorProperty] = []
        for (name, value) in try Self.section(definition, "mirrorProperties") {
            let path = "body.mirrorProperties.\(name)"
            try claim(name, path)
            guard let text = value["path"]?.stringValue else {
                throw .invalidRequest("\(path).path is required: relations and a property, joined by dots")
            }
            let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 2, parts.allSatisfy({ !$0.isEmpty }), let first = relations[parts[0]] else {
                throw .invalidRequest(
                    "\(path).path \"\(text)\" must start with a relation of the blueprint and end with a property (e.g. relation.property)"
                )
            }
            _ = first
            mirrors.append(MirrorProperty(identifier: name, relations: Array(parts.dropLast()), property: parts.last!))
        }
        self.mirrors = mirrors
        var calculations: [CalculationProperty] = []
        for (name, value) in try Self.section(definition, "calculationProperties") {
            let path = "body.calculationProperties.\(name)"
            try claim(name, path)
            guard let calculation = value["calculation"]?.stringValue else {
                throw .invalidRequest("\(path).calculation is required: a jq expression over the entity")
            }
            do {
                _ = try calculationPrograms.program(calculation)
            } catch {
                throw .invalidRequest("\(path).calculation is not valid jq: \(error)")
            }
            calculations.append(
                CalculationProperty(identifier: name, calculation: calculation, type: value["type"]?.stringValue)
            )
        }
        self.calculations = calculations
        var aggregations: [AggregationProperty] = []
        for (name, value) in try Self.section(definition, "aggregationProperties") {
            let path = "body.aggregationProperties.\(name)"
            try claim(name, path)
            guard let target = value["target"]?.stringValue else {
                throw .invalidRequest("\(path).target is required: the blueprint of the entities aggregated")
            }
            guard let spec = value["calculationSpec"]?.objectValue else {
                throw .invalidRequest("\(path).calculationSpec is required: {calculationBy, func, ...}")
            }
            let function: AggregationProperty.Function
            switch (spec["calculationBy"]?.stringValue, spec["func"]?.stringValue) {
            case ("entities", "count"): function = .count
            case ("entities", "average"):
                let unit = spec["averageOf"]?.stringValue ?? "day"
                guard Self.averageUnits.contains(unit) else {
                    throw .invalidRequest("\(path).calculationSpec.averageOf must be hour, day, week or month")
                }
                function = .averageOfEntities(
                    unit: unit,
                    measureTimeBy: spec["measureTimeBy"]?.stringValue ?? "$createdAt"
                )
            case ("property", let name?) where Self.aggregationFunctions.contains(name):
                guard let property = spec["property"]?.stringValue else {
                    throw .invalidRequest("\(path).calculationSpec.property is required with calculationBy property")
                }
                function = .ofProperty(name, property: property)
            default:
                throw .invalidRequest(
                    "\(path).calculationSpec must be {calculationBy: entities, func: count|average} or {calculationBy: property, func: sum|average|min|max|median, property} (got \(JSONValue.object(spec).compactText))"
                )
            }
            var query: Query?
            if let raw = value["query"], raw != .null {
                query = try Query(parsing: raw, at: "\(path).query")
            }
            aggregations.append(AggregationProperty(identifier: name, target: target, function: function, query: query))
        }
        self.aggregations = aggregations
    }

    private static func section(_ definition: JSONObject, _ key: String) throws(PortError) -> JSONObject {
        guard let value = definition[key], value != .null else { return [:] }
        guard let object = value.objectValue else { throw .invalidRequest("body.\(key) must be an object") }
        return object
    }

    /// What in this blueprint names a blueprint that `known` lacks, one line each.
    public func unknownTargets(known: (String) -> Bool) -> [String] {
        relations.values.sorted { $0.identifier < $1.identifier }.compactMap { relation in
            known(relation.target) ? nil : "relations.\(relation.identifier).target \"\(relation.target)\""
        }
            + aggregations.compactMap { aggregation in
                known(aggregation.target)
                    ? nil : "aggregationProperties.\(aggregation.identifier).target \"\(aggregation.target)\""
            }
    }
}
