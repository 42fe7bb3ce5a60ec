public import PortContract

#if canImport(Glibc)
import Glibc
#endif

extension Query {
    /// The operators a rule may name, for errors.
    static let operatorNames: [String] =
        CompareOperator.allCases.map(\.rawValue) + OrderOperator.allCases.map(\.rawValue) + [
            "between", "notBetween", "isEmpty", "isNotEmpty", "isExpired", "isNotExpired", "relatedTo", "matchAny",
        ]

    /// Reads Port's `{combinator, rules}` (or one rule); `location` names it in errors, e.g.
    /// `body.query`. A malformed rule is 422 `invalid_request` naming the rule's place.
    public init(parsing value: JSONValue, at location: String) throws(PortError) {
        guard let object = value.objectValue else {
            throw .invalidRequest("\(location) must be an object with combinator and rules, not \(value.typeName)")
        }
        if object["rules"] != nil || object["combinator"] != nil {
            self = try Self.group(object, at: location)
        } else {
            self = try Self.rule(object, at: location)
        }
    }

    private static func group(_ object: JSONObject, at location: String) throws(PortError) -> Query {
        try allow(object, ["combinator", "rules"], at: location)
        guard let text = object["combinator"]?.stringValue, let combinator = Combinator(rawValue: text) else {
            throw .invalidRequest(
                "\(location).combinator must be \"and\" or \"or\" (got \(object["combinator"]?.compactText ?? "nothing"))"
            )
        }
        guard let rules = object["rules"]?.arrayValue else {
            throw .invalidRequest("\(location).rules must be an array of rules")
        }
        var parsed: [Query] = []
        for (index, rule) in rules.enumerated() {
            parsed.append(try Query(parsing: rule, at: "\(location).rules[\(index)]"))
        }
        return .group(combinator, parsed)
    }

    private static func rule(_ object: JSONObject, at location: String) throws(PortError) -> Query {
        guard let written = object["operator"]?.stringValue else {
            throw .invalidRequest(
                "\(location).operator is required: one of \(operatorNames.joined(separator: ", "))"
            )
        }
        let name = spellings[written] ?? written
        if name == "relatedTo" { return .relatedTo(try relatedTo(object, at: location)) }
        if object["scorecard"] != nil || object["scorecardRule"] != nil {
            throw .invalidRequest("\(location).scorecard: scorecard rules are not supported by the emulator yet")
        }
        if let relation = object["relation"] {
            guard let relationName = relation.stringValue, !relationName.isEmpty else {
                throw .invalidRequest("\(location).relation must be a relation identifier")
            }
            var rewritten = object
            rewritten["relation"] = nil
            let target = rewritten["targetProperty"]
            rewritten["targetProperty"] = nil
            guard target == nil || target?.stringValue != nil else {
                throw .invalidRequest("\(location).targetProperty must be $identifier, $title or a property identifier")
            }
            rewritten["property"] = .string(relationName)
            let parsed = try rule(rewritten, at: location)
            guard let targetProperty = target?.stringValue, case .property(_, let condition) = parsed else {
                return parsed
            }
            return .property(.path(relations: [PathStep(relationName)], property: targetProperty), condition)
        }
        if let schema = object["propertySchema"] {
            return .propertySchema(try propertySchema(schema, object, at: location))
        }
        let needsValue = !["isEmpty", "isNotEmpty", "isExpired", "isNotExpired"].contains(name)
        try allow(object, needsValue ? ["property", "operator", "value"] : ["property", "operator"], at: location)
        let subject = try subject(object["property"], at: location + ".property")
        guard needsValue else {
            return .property(
                subject,
                name.hasSuffix("Empty") ? .empty(name == "isEmpty") : .expired(name == "isExpired")
            )
        }
        guard let value = object["value"] else {
            throw .invalidRequest("\(location).value is required with operator \(name)")
        }
        if case .object(let member) = value, member["context"] != nil {
            throw .invalidRequest(
                "\(location).value: values from the user's context (user, userTeams) are not supported by the emulator yet"
            )
        }
        if let compare = CompareOperator(rawValue: name) {
            if case .object = value, compare == .equals {
                return .property(subject, .dateRange(try dateRange(value, at: location + ".value"), negated: false))
            }
            try checkCompareValue(compare, value, at: location + ".value")
            return .property(subject, .compare(compare, value))
        }
        if let order = OrderOperator(rawValue: name) {
            guard value.doubleValue != nil || value.stringValue.flatMap(TimerInstant.parse) != nil else {
                throw .invalidRequest(
                    "\(location).value must be a number or an ISO-8601 date-time with operator \(name), not \(value.compactText)"
                )
            }
            return .property(subject, .order(order, value))
        }
        switch name {
        case "between", "notBetween":
            return .property(
                subject,
                .dateRange(try dateRange(value, at: location + ".value"), negated: name == "notBetween")
            )
        case "matchAny":
            let list = value.arrayValue ?? [value]
            guard list.allSatisfy({ $0.stringValue != nil }) else {
                throw .invalidRequest(
                    "\(location).value must be a string or an array of strings with operator matchAny"
                )
            }
            return .property(subject, .matchAny(list.compactMap(\.stringValue)))
        default:
            throw .invalidRequest(
                "\(location).operator \"\(name)\" is not one of \(operatorNames.joined(separator: ", "))"
            )
        }
    }

    /// Older spellings of Port's docs, read as today's.
    static let spellings = [
        "doesNotContain": "doesNotContains", "doesNotBeginWith": "doesNotBeginsWith",
        "doesNotEndWith": "doesNotEndsWith",
    ]

    private static func subject(_ value: JSONValue?, at location: String) throws(PortError) -> Subject {
        switch value {
        case .string(let name)? where !name.isEmpty: return .named(name)
        case .object(let object)?:
            if object["context"] != nil {
                throw .invalidRequest(
                    "\(location): properties of the user's context (user, userTeams) are not supported by the emulator yet"
                )
            }
            try allow(object, ["path", "fromBlueprint"], at: location)
            if object["fromBlueprint"] != nil {
                throw .invalidRequest(
                    "\(location).fromBlueprint: paths from another blueprint are not supported by the emulator yet; write the path from the searched blueprint"
                )
            }
            guard let steps = object["path"]?.arrayValue, !steps.isEmpty else {
                throw .invalidRequest("\(location).path must list one or more relations")
            }
            var path: [PathStep] = []
            for (index, step) in steps.enumerated() {
                if let name = step.stringValue, !name.isEmpty {
                    path.append(PathStep(name))
                } else if let name = step["relation"]?.stringValue, !name.isEmpty {
                    let hops = step["maxHops"]
                    guard hops == nil || (hops?.intValue).map({ (1...15).contains($0) }) == true else {
                        throw .invalidRequest("\(location).path[\(index)].maxHops must be an integer from 1 to 15")
                    }
                    path.append(PathStep(name, maxHops: hops?.intValue.map(Int.init)))
                } else {
                    throw .invalidRequest(
                        "\(location).path[\(index)] must be a relation identifier or {relation, maxHops}"
                    )
                }
            }
            return .path(relations: path, property: "$identifier")
        default:
            throw .invalidRequest(
                "\(location) is required: a property identifier (or $identifier, $title, ...) or {path: [...]}"
            )
        }
    }

    private static func checkCompareValue(
        _ compare: CompareOperator,
        _ value: JSONValue,
        at location: String
    ) throws(PortError) {
        switch compare {
        case .in, .notIn, .containsAny:
            guard let list = value.arrayValue, list.allSatisfy({ $0.arrayValue == nil && $0.objectValue == nil }) else {
                throw .invalidRequest("\(location) must be an array of values with operator \(compare.rawValue)")
            }
        case .contains, .doesNotContains, .beginsWith, .doesNotBeginsWith, .endsWith, .doesNotEndsWith:
            guard value.stringValue != nil else {
                throw .invalidRequest(
                    "\(location) must be a string with operator \(compare.rawValue), not \(value.typeName)"
                )
            }
        case .equals, .notEquals:
            if case .object = value {
                throw .invalidRequest("\(location) must be a string, number, boolean, null or array, not an object")
            }
        }
    }

    private static func dateRange(_ value: JSONValue, at location: String) throws(PortError) -> DateRange {
        guard let object = value.objectValue else {
            throw .invalidRequest("\(location) must be {from, to} or {preset}, not \(value.typeName)")
        }
        if let preset = object["preset"] {
            guard let name = preset.stringValue, let known = DatePreset(rawValue: name) else {
                throw .invalidRequest(
                    "\(location).preset must be one of \(DatePreset.allCases.map(\.rawValue).joined(separator: ", ")) (got \(preset.compactText))"
                )
            }
            return .preset(known)
        }
        guard let from = object["from"]?.stringValue, TimerInstant.parse(from) != nil,
            let to = object["to"]?.stringValue, TimerInstant.parse(to) != nil
        else {
            throw .invalidRequest("\(location) must be {from, to} with ISO-8601 date-times, or {preset}")
        }
        return .between(from: from, to: to)
    }

    private static func relatedTo(_ object: JSONObject, at location: String) throws(PortError) -> RelatedTo {
        try allow(object, ["operator", "blueprint", "value", "direction", "required"], at: location)
        guard let blueprint = object["blueprint"]?.stringValue, !blueprint.isEmpty else {
            throw .invalidRequest("\(location).blueprint is required with relatedTo: the blueprint of value's entities")
        }
        let values = object["value"].map { $0.arrayValue ?? [$0] } ?? []
        guard !values.isEmpty, values.allSatisfy({ $0.stringValue != nil }) else {
            throw .invalidRequest("\(location).value must be an entity identifier or an array of them with relatedTo")
        }
        var direction: RelatedTo.Direction?
        if let text = object["direction"] {
            guard let name = text.stringValue, let known = RelatedTo.Direction(rawValue: name) else {
                throw .invalidRequest("\(location).direction must be upstream or downstream (got \(text.compactText))")
            }
            direction = known
        }
        if let required = object["required"], required.boolValue == nil {
            throw .invalidRequest("\(location).required must be a boolean")
        }
        return RelatedTo(
            blueprint: blueprint,
            identifiers: values.compactMap(\.stringValue),
            direction: direction,
            required: object["required"]?.boolValue
        )
    }

    private static func propertySchema(
        _ schema: JSONValue,
        _ object: JSONObject,
        at location: String
    ) throws(PortError) -> PropertySchemaRule {
        try allow(object, ["propertySchema", "operator", "value"], at: location)
        guard let type = schema["type"]?.stringValue else {
            throw .invalidRequest("\(location).propertySchema.type is required")
        }
        let name = object["operator"]?.stringValue ?? ""
        guard let comparison = CompareOperator(rawValue: name), [.equals, .notEquals, .contains].contains(comparison)
        else {
            throw .invalidRequest(
                "\(location).operator must be =, != or contains with propertySchema (got \"\(name)\")"
            )
        }
        let value = object["value"] ?? .null
        if comparison == .contains, value.stringValue == nil {
            throw .invalidRequest("\(location).value must be a string with operator contains")
        }
        return PropertySchemaRule(
            type: type,
            format: schema["format"]?.stringValue,
            comparison: comparison,
            value: value
        )
    }

    private static func allow(_ object: JSONObject, _ keys: Set<String>, at location: String) throws(PortError) {
        if let extra = object.keys.first(where: { !keys.contains($0) }) {
            throw .invalidRequest(
                "\(location).\(extra) is not allowed here (a rule takes \(keys.sorted().joined(separator: ", ")))"
            )
        }
    }
}
