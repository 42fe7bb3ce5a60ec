public import PortContract

/// A query in Port's search language: rules joined by `and` / `or`, nested at will.
///
/// One engine serves search, aggregation properties and the datasets of entity inputs.
/// `Query(parsing:at:)` reads Port's JSON and refuses a malformed rule with 422 naming it;
/// `CatalogQuery` (Query+Evaluate) runs it over an `EntityStore`.
public indirect enum Query: Sendable, Equatable {
    /// `{combinator, rules}`.
    case group(Combinator, [Query])
    /// A rule on a property, meta-property, relation or computed property.
    case property(Subject, Condition)
    /// `relatedTo`: entities related to the given entities of `blueprint`.
    case relatedTo(RelatedTo)
    /// A rule on every property of a given schema (`propertySchema`).
    case propertySchema(PropertySchemaRule)

    /// `and` or `or`.
    public enum Combinator: String, Sendable {
        /// Every rule holds.
        case and
        /// At least one rule holds.
        case or
    }

    /// What a rule reads.
    public enum Subject: Sendable, Equatable {
        /// A property, relation, computed property or `$`meta-property of the entity.
        case named(String)
        /// A property (or `$`meta-property) of the entities reached through `relations`:
        /// `{"path": [...]}` subjects read `$identifier` at the end of the path, and
        /// `{"relation", "targetProperty"}` rules the target property.
        case path(relations: [PathStep], property: String)
    }

    /// One relation of a path, followed once, or from 1 to `maxHops` times.
    public struct PathStep: Sendable, Equatable {
        /// The relation.
        public let relation: String
        /// At most this many hops, every entity along the way counting; `nil` is one hop.
        public let maxHops: Int?

        /// A step through `relation`.
        public init(_ relation: String, maxHops: Int? = nil) {
            self.relation = relation
            self.maxHops = maxHops
        }
    }

    /// What a rule asks of the value it reads.
    public enum Condition: Sendable, Equatable {
        /// `=`, `!=`, `in`, `notIn`, `containsAny`, `contains`, `doesNotContains`,
        /// `beginsWith`, `doesNotBeginsWith`, `endsWith`, `doesNotEndsWith`.
        case compare(CompareOperator, JSONValue)
        /// `>`, `>=`, `<`, `<=` against a number or a date-time.
        case order(OrderOperator, JSONValue)
        /// `between` (or a date `=`) / `notBetween`: the value is a date within the range.
        case dateRange(DateRange, negated: Bool)
        /// `isEmpty` (`true`) or `isNotEmpty` (`false`).
        case empty(Bool)
        /// `isExpired` (`true`) or `isNotExpired` (`false`).
        case expired(Bool)
        /// `matchAny`: one of the values read is one of these.
        case matchAny([String])
    }

    /// The operators of string rules.
    public enum CompareOperator: String, Sendable, CaseIterable {
        /// Equal.
        case equals = "="
        /// Not equal.
        case notEquals = "!="
        /// One of a list.
        case `in`
        /// None of a list.
        case notIn
        /// An array with one of the values, or a string holding one of them.
        case containsAny
        /// A string holding the value, or an array with an item holding it.
        case contains
        /// Not `contains`.
        case doesNotContains
        /// A string starting with the value.
        case beginsWith
        /// Not `beginsWith`.
        case doesNotBeginsWith
        /// A string ending with the value.
        case endsWith
        /// Not `endsWith`.
        case doesNotEndsWith
    }

    /// `>`, `>=`, `<`, `<=`.
    public enum OrderOperator: String, Sendable, CaseIterable {
        /// Greater.
        case greater = ">"
        /// Greater or equal.
        case greaterOrEqual = ">="
        /// Less.
        case less = "<"
        /// Less or equal.
        case lessOrEqual = "<="
    }

    /// The range of a date rule: explicit, or a preset relative to now.
    public enum DateRange: Sendable, Equatable {
        /// `{from, to}`, both inclusive.
        case between(from: String, to: String)
        /// `{preset}`: `today`, `lastWeek`, ... (`DatePreset`).
        case preset(DatePreset)
    }

    /// `relatedTo`.
    public struct RelatedTo: Sendable, Equatable {
        /// The blueprint of the entities named in `identifiers`.
        public let blueprint: String
        /// The entities related to.
        public let identifiers: [String]
        /// `upstream`, `downstream`, or both (`nil`).
        public let direction: Direction?
        /// Only through required relations (`true`), only through optional ones (`false`),
        /// or through any (`nil`).
        public let required: Bool?

        /// Which way relations are followed from the named entities.
        public enum Direction: String, Sendable {
            /// What the named entities point to, and what that points to.
            case upstream
            /// What points to the named entities, and what points to that.
            case downstream
        }
    }

    /// A `propertySchema` rule: the properties whose schema has this `type` (and `format`).
    public struct PropertySchemaRule: Sendable, Equatable {
        /// The property type.
        public let type: String
        /// The property format, if any.
        public let format: String?
        /// `=`, `!=` or `contains`.
        public let comparison: CompareOperator
        /// The value compared.
        public let value: JSONValue
    }
}

/// The date presets of date rules, each a range ending or starting at a day boundary (UTC)
/// or at now; `fixtures/README.md` lists the ranges.
public enum DatePreset: String, Sendable, CaseIterable {
    /// Since midnight UTC, until the next.
    case today
    /// The next UTC day.
    case tomorrow
    /// The previous UTC day.
    case yesterday
    /// The last 24 hours.
    case lastDay
    /// The last 7 days.
    case lastWeek
    /// The last 14 days.
    case last2Weeks
    /// The last 30 days.
    case lastMonth
    /// The last 90 days.
    case last3Months
    /// The last 180 days.
    case last6Months
    /// The last 365 days.
    case last12Months
}
