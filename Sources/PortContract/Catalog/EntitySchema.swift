#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The part of a blueprint's JSON schema Port checks entity properties against: each
/// property's `type`, `enum` and array `items`, and the `required` list.
///
/// Properties the schema does not name are refused, as Port refuses them. `null` clears a
/// property and is accepted for any property that is not required.
public struct EntitySchema: Sendable, Equatable {
    /// One property's rule.
    public struct Property: Sendable, Equatable {
        /// `string`, `number`, `integer`, `boolean`, `object` or `array`; `nil` accepts any value.
        public let type: String?
        /// The allowed values, if restricted.
        public let allowedValues: [JSONValue]?
        /// The rule for each item of an `array` property.
        public let items: ItemRule?
        /// The string `format`, if any (`timer`: an ISO-8601 instant that expires).
        public var format: String? = nil
        /// `aes256-gcm` for a secret input (contract §8), else `nil`.
        public var encryption: String? = nil
    }

    /// The rule for the items of an array property.
    public struct ItemRule: Sendable, Equatable {
        /// The items' type, if restricted.
        public let type: String?
        /// The items' allowed values, if restricted.
        public let allowedValues: [JSONValue]?
    }

    /// The properties, by identifier.
    public let properties: [String: Property]
    /// The properties every entity must carry.
    public let required: [String]
    /// The `default` of each property that has one, in schema order.
    public let defaults: JSONObject

    /// The one encryption Port offers for secret inputs.
    public static let secretEncryption = "aes256-gcm"

    /// The names of the secret inputs (`encryption: "aes256-gcm"`), sorted.
    public var encryptedProperties: [String] { properties.filter { $0.value.encryption != nil }.keys.sorted() }

    /// The names of the `format: timer` properties, sorted.
    public var timerProperties: [String] {
        properties.filter { $0.value.format == "timer" && $0.value.type == "string" }.keys.sorted()
    }

    private static let knownTypes: Set<String> = ["string", "number", "integer", "boolean", "object", "array"]

    /// Reads `{"properties": {...}, "required": [...]}`; `location` names the schema in errors.
    public init(_ schema: JSONValue, at location: String) throws(PortError) {
        guard let object = schema.objectValue else {
            throw .invalidRequest("\(location) must be an object, not \(schema.typeName)")
        }
        guard let propertyObjects = (object["properties"] ?? [:]).objectValue else {
            throw .invalidRequest("\(location).properties must be an object")
        }
        var properties: [String: Property] = [:]
        var defaults = JSONObject()
        for (name, definition) in propertyObjects {
            let path = "\(location).properties.\(name)"
            guard let definition = definition.objectValue else {
                throw .invalidRequest("\(path) must be an object")
            }
            let type = try Self.type(in: definition, at: path)
            var items: ItemRule?
            if let itemObject = definition["items"]?.objectValue {
                items = ItemRule(
                    type: try Self.type(in: itemObject, at: path + ".items"),
                    allowedValues: itemObject["enum"]?.arrayValue
                )
            }
            var property = Property(type: type, allowedValues: definition["enum"]?.arrayValue, items: items)
            property.format = definition["format"]?.stringValue
            if let encryption = definition["encryption"] {
                guard encryption.stringValue == Self.secretEncryption, type == "string" || type == "object" else {
                    throw .invalidRequest(
                        "\(path).encryption must be \"\(Self.secretEncryption)\", on a string or object input (got \(encryption.compactText) on \(type ?? "an untyped input"))"
                    )
                }
                property.encryption = Self.secretEncryption
            }
            properties[name] = property
            defaults[name] = definition["default"]
        }
        let requiredValue = object["required"] ?? []
        guard let requiredList = requiredValue.arrayValue, requiredList.allSatisfy({ $0.stringValue != nil }) else {
            throw .invalidRequest("\(location).required must be an array of property names")
        }
        self.properties = properties
        self.defaults = defaults
        required = requiredList.compactMap(\.stringValue)
    }

    private static func type(in definition: JSONObject, at path: String) throws(PortError) -> String? {
        guard let typeValue = definition["type"] else { return nil }
        guard let type = typeValue.stringValue, knownTypes.contains(type) else {
            throw .invalidRequest(
                "\(path).type must be one of \(knownTypes.sorted().joined(separator: ", ")) (got \(typeValue.compactText))"
            )
        }
        return type
    }

    /// What is wrong with `values` under this schema, one line per problem (empty when valid).
    ///
    /// `location` prefixes each field name, e.g. `properties`.
    /// `unknown` says what a name the schema lacks is not, e.g. `a property of the blueprint`.
    public func violations(
        of values: JSONObject,
        at location: String = "properties",
        unknown: String = "a property of the blueprint"
    ) -> [String] {
        var problems: [String] = []
        for name in required where values[name] == nil || values[name] == .null {
            problems.append("\(location).\(name) is required")
        }
        for (name, value) in values {
            guard let rule = properties[name] else {
                problems.append("\(location).\(name) is not \(unknown)")
                continue
            }
            if value == .null { continue }
            if let problem = Self.problem(with: value, type: rule.type, allowed: rule.allowedValues) {
                // A secret input's value is never repeated in an error (errors are journaled).
                let shown =
                    rule.encryption == nil
                    ? problem : problem.replacing(value.compactText, with: "a secret value")
                problems.append("\(location).\(name) \(shown)")
                continue
            }
            if rule.format == "timer", let text = value.stringValue, TimerInstant.parse(text) == nil {
                problems.append("\(location).\(name) must be an ISO-8601 date-time (a timer), got \(value.compactText)")
            }
            guard let items = rule.items, let array = value.arrayValue else { continue }
            for (position, item) in array.enumerated() {
                if let problem = Self.problem(with: item, type: items.type, allowed: items.allowedValues) {
                    problems.append("\(location).\(name)[\(position)] \(problem)")
                }
            }
        }
        return problems
    }

    private static func problem(with value: JSONValue, type: String?, allowed: [JSONValue]?) -> String? {
        if let type, !matches(value, type: type) {
            return
                "must be \(type == "integer" || type == "array" || type == "object" ? "an" : "a") \(type), not \(value.typeName)"
        }
        if let allowed, !allowed.contains(value) {
            return "must be one of \(allowed.map(\.compactText).joined(separator: ", ")) (got \(value.compactText))"
        }
        return nil
    }

    private static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("string", .string), ("boolean", .bool), ("object", .object), ("array", .array): true
        case ("number", .int), ("number", .double), ("integer", .int): true
        case ("integer", .double(let number)): number.rounded() == number
        default: false
        }
    }

    /// `values` with the default of every property they leave out.
    public func applyingDefaults(to values: JSONObject) -> JSONObject {
        var filled = values
        for (name, value) in defaults where filled[name] == nil { filled[name] = value }
        return filled
    }
}
