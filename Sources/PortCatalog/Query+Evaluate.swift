public import PortContract

#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// A query made ready to run over one catalog copy: `relatedTo` walked once into a set,
/// date presets turned into instants.
public indirect enum PreparedQuery: Sendable {
    /// `{combinator, rules}`.
    case group(Query.Combinator, [PreparedQuery])
    /// A rule on what the subject reads.
    case property(Query.Subject, PreparedCondition)
    /// A `relatedTo` rule: the entities it reaches.
    case member(Set<EntityKey>)
    /// A `propertySchema` rule.
    case propertySchema(Query.PropertySchemaRule)
}

/// A rule's condition with its dates resolved.
public enum PreparedCondition: Sendable {
    /// A string-rule operator and its value.
    case compare(Query.CompareOperator, JSONValue)
    /// `>`, `>=`, `<`, `<=` and the bound, with the bound as an instant when it is a date-time.
    case order(Query.OrderOperator, JSONValue, date: Date?)
    /// Within (or, negated, outside) the instants, both ends included.
    case dateRange(from: Date, to: Date, negated: Bool)
    /// `isEmpty` (`true`) or `isNotEmpty`.
    case empty(Bool)
    /// `isExpired` (`true`) or `isNotExpired`.
    case expired(Bool)
    /// `matchAny`: one of these values.
    case matchAny(Set<String>)
}

extension CatalogReader {
    /// Makes `query` ready to run: walks `relatedTo` rules (an unknown blueprint is 404).
    public func prepare(_ query: Query) throws(PortError) -> PreparedQuery {
        switch query {
        case .group(let combinator, let rules):
            var prepared: [PreparedQuery] = []
            for rule in rules { prepared.append(try prepare(rule)) }
            return .group(combinator, prepared)
        case .relatedTo(let rule):
            guard models[rule.blueprint] != nil else { throw .blueprintNotFound(rule.blueprint) }
            let starts = rule.identifiers.map { EntityKey(blueprint: rule.blueprint, identifier: $0) }
            return .member(related(to: starts, direction: rule.direction, required: rule.required))
        case .propertySchema(let rule):
            return .propertySchema(rule)
        case .property(let subject, let condition):
            return .property(subject, prepare(condition))
        }
    }

    private func prepare(_ condition: Query.Condition) -> PreparedCondition {
        switch condition {
        case .compare(let comparison, let value): return .compare(comparison, value)
        case .order(let order, let value):
            return .order(order, value, date: value.stringValue.flatMap(TimerInstant.parse))
        case .dateRange(let range, let negated):
            let (from, to) = Self.interval(range, now: now)
            return .dateRange(from: from, to: to, negated: negated)
        case .empty(let empty): return .empty(empty)
        case .expired(let expired): return .expired(expired)
        case .matchAny(let values): return .matchAny(Set(values))
        }
    }

    /// The instants a date range covers, both ends included.
    public static func interval(_ range: Query.DateRange, now: Date) -> (Date, Date) {
        switch range {
        case .between(let from, let to):
            return (TimerInstant.parse(from) ?? .distantFuture, TimerInstant.parse(to) ?? .distantPast)
        case .preset(let preset):
            let day = 86_400.0
            let midnight = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / day).rounded(.down) * day)
            let justBefore = -0.001
            switch preset {
            case .today: return (midnight, midnight.addingTimeInterval(day + justBefore))
            case .tomorrow: return (midnight.addingTimeInterval(day), midnight.addingTimeInterval(2 * day + justBefore))
            case .yesterday: return (midnight.addingTimeInterval(-day), midnight.addingTimeInterval(justBefore))
            case .lastDay: return (now.addingTimeInterval(-day), now)
            case .lastWeek: return (now.addingTimeInterval(-7 * day), now)
            case .last2Weeks: return (now.addingTimeInterval(-14 * day), now)
            case .lastMonth: return (now.addingTimeInterval(-30 * day), now)
            case .last3Months: return (now.addingTimeInterval(-90 * day), now)
            case .last6Months: return (now.addingTimeInterval(-180 * day), now)
            case .last12Months: return (now.addingTimeInterval(-365 * day), now)
            }
        }
    }

    /// Whether `entity` matches the prepared query.
    public func matches(_ query: PreparedQuery, _ entity: Entity) -> Bool {
        switch query {
        case .group(.and, let rules): return rules.allSatisfy { matches($0, entity) }
        case .group(.or, let rules): return rules.contains { matches($0, entity) }
        case .member(let keys):
            return keys.contains(EntityKey(blueprint: entity.blueprint, identifier: entity.identifier))
        case .propertySchema(let rule): return matches(rule, entity)
        case .property(.named(let name), let condition):
            return Self.holds(condition, on: value(of: name, for: entity), now: now)
        case .property(.path(let steps, let property), .matchAny(let wanted)):
            return entities(along: steps, from: entity).contains { reached in
                (value(of: property, for: reached)?.stringValue).map(wanted.contains) ?? false
            }
        case .property(.path(let steps, let property), let condition):
            let reached = entities(along: steps, from: entity)
            // Nothing at the end of the path reads as a value that is not set.
            guard !reached.isEmpty else { return Self.holds(condition, on: nil, now: now) }
            return reached.contains { Self.holds(condition, on: value(of: property, for: $0), now: now) }
        }
    }

    /// The entities reached from `entity` along a path, each step once or up to its `maxHops`.
    func entities(along steps: [Query.PathStep], from entity: Entity) -> [Entity] {
        var reached = [entity]
        for step in steps {
            var frontier = reached
            var collected: [Entity] = []
            var seen: Set<EntityKey> = []
            for _ in 0..<(step.maxHops ?? 1) {
                frontier = frontier.flatMap { targets(of: $0, through: step.relation) }
                frontier = frontier.filter {
                    seen.insert(EntityKey(blueprint: $0.blueprint, identifier: $0.identifier)).inserted
                }
                collected += frontier
                if frontier.isEmpty { break }
            }
            reached = collected
        }
        return reached
    }

    private func matches(_ rule: Query.PropertySchemaRule, _ entity: Entity) -> Bool {
        let names = (models[entity.blueprint]?.blueprint.schema.properties ?? [:]).filter {
            $0.value.type == rule.type && (rule.format == nil || $0.value.format == rule.format)
        }.keys
        let values = names.map { entity.properties[$0] ?? .null }
        switch rule.comparison {
        case .notEquals: return !values.contains { Self.equal($0, rule.value) }
        case .contains: return values.contains { Self.holds(.compare(.contains, rule.value), on: $0, now: now) }
        default: return values.contains { Self.equal($0, rule.value) }
        }
    }

    /// Whether a condition holds on a value (`nil`: the entity has no such property).
    /// The choices where Port is silent are listed in `fixtures/README.md`.
    static func holds(_ condition: PreparedCondition, on value: JSONValue?, now: Date) -> Bool {
        switch condition {
        case .empty(let wanted):
            return isEmpty(value) == wanted
        case .expired(let wanted):
            let expired = value?.stringValue.flatMap(TimerInstant.parse).map { $0 <= now } ?? false
            return expired == wanted
        case .matchAny(let wanted):
            let values = value?.arrayValue ?? value.map { [$0] } ?? []
            return values.contains { $0.stringValue.map(wanted.contains) ?? false }
        case .dateRange(let from, let to, let negated):
            guard let date = value?.stringValue.flatMap(TimerInstant.parse) else { return false }
            return (from <= date && date <= to) != negated
        case .order(let order, let bound, let boundDate):
            guard let value else { return false }
            let comparison: ComparisonResult?
            if let boundDate {
                comparison = value.stringValue.flatMap(TimerInstant.parse).map { compare($0, boundDate) }
            } else if let number = value.doubleValue, let limit = bound.doubleValue {
                comparison = compare(number, limit)
            } else {
                comparison = nil
            }
            guard let comparison else { return false }
            switch order {
            case .greater: return comparison == .orderedDescending
            case .greaterOrEqual: return comparison != .orderedAscending
            case .less: return comparison == .orderedAscending
            case .lessOrEqual: return comparison != .orderedDescending
            }
        case .compare(let comparison, let wanted):
            return compare(comparison, value, wanted)
        }
    }

    private static func compare(_ comparison: Query.CompareOperator, _ value: JSONValue?, _ wanted: JSONValue) -> Bool {
        switch comparison {
        case .equals:
            guard let value else { return wanted == .null }
            return equal(value, wanted)
        case .notEquals: return !compare(.equals, value, wanted)
        case .in:
            let list = wanted.arrayValue ?? []
            let values = value?.arrayValue ?? value.map { [$0] } ?? []
            return values.contains { item in list.contains { equal(item, $0) } }
        case .notIn: return !compare(.in, value, wanted)
        case .containsAny:
            let list = wanted.arrayValue ?? []
            if let text = value?.stringValue {
                return list.contains { $0.stringValue.map { text.contains($0) } ?? false }
            }
            return (value?.arrayValue ?? []).contains { item in list.contains { equal(item, $0) } }
        case .contains, .beginsWith, .endsWith:
            guard let needle = wanted.stringValue else { return false }
            let texts = value?.arrayValue?.compactMap(\.stringValue) ?? value?.stringValue.map { [$0] } ?? []
            return texts.contains { text in
                switch comparison {
                case .beginsWith: text.hasPrefix(needle)
                case .endsWith: text.hasSuffix(needle)
                default: text.contains(needle)
                }
            }
        case .doesNotContains: return !compare(.contains, value, wanted)
        case .doesNotBeginsWith: return !compare(.beginsWith, value, wanted)
        case .doesNotEndsWith: return !compare(.endsWith, value, wanted)
        }
    }

    /// JSON equality with numbers compared by value (`1` equals `1.0`).
    static func equal(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
        if let left = lhs.doubleValue, let right = rhs.doubleValue { return left == right }
        return lhs == rhs
    }

    /// Missing, `null` and `[]` are empty; `""` and `{}` are values (Port's docs: "checks
    /// if the value … is null"; an empty array holds no value).
    static func isEmpty(_ value: JSONValue?) -> Bool {
        switch value {
        case nil, .null?: true
        case .array(let items)?: items.isEmpty
        default: false
        }
    }

    private static func compare<T: Comparable>(_ lhs: T, _ rhs: T) -> ComparisonResult {
        lhs < rhs ? .orderedAscending : (lhs > rhs ? .orderedDescending : .orderedSame)
    }
}
