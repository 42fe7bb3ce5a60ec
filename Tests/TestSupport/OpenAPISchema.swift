import Foundation
import PortContract

/// A JSON schema from an OpenAPI document, checked against JSON values.
///
/// Only the subset that Port's response schemas rely on is enforced: `type` (one type or
/// several; `integer` takes whole numbers, `number` any number), `nullable`, `enum`,
/// `const`, `required`, `properties`, `additionalProperties` (`false` or a schema),
/// `items`, `allOf`, `anyOf` and `oneOf`. A `oneOf` is treated like an `anyOf`, because
/// Port's branches overlap and a body often matches more than one. Every other keyword
/// (`format`, `pattern`, `minLength`, `maxLength`, ...) is ignored, and so is `$ref`:
/// the schemas are expected to have their references expanded already.
public struct OpenAPISchema: Sendable, Hashable {
    /// The schema itself: an object, or `true` / `false`.
    public let json: JSONValue

    /// A schema from its JSON.
    public init(_ json: JSONValue) {
        self.json = json
    }

    /// The ways `value` breaks the schema, one readable line each, such as
    /// `$.run.status: expected string, got null`; empty when it conforms.
    public func violations(of value: JSONValue) -> [String] {
        var found: [String] = []
        Self.check(value, against: json, at: "$", into: &found)
        return found
    }

    private static func check(
        _ value: JSONValue,
        against schema: JSONValue,
        at path: String,
        into found: inout [String]
    ) {
        switch schema {
        case .bool(true):
            return
        case .bool(false):
            found.append("\(path): no value is allowed here, got \(describe(value))")
            return
        case .object(let keywords):
            checkKeywords(value, keywords, at: path, into: &found)
        default:
            found.append("\(path): the schema is not an object or a boolean: \(describe(schema))")
        }
    }

    private static func checkKeywords(
        _ value: JSONValue,
        _ schema: JSONObject,
        at path: String,
        into found: inout [String]
    ) {
        if value == .null, schema["nullable"] == .bool(true) { return }

        if let type = schema["type"] {
            let allowed = type.arrayValue?.compactMap(\.stringValue) ?? type.stringValue.map { [$0] } ?? []
            if !allowed.contains(where: { matches(value, type: $0) }) {
                let expected = allowed.count == 1 ? allowed[0] : "one of " + allowed.joined(separator: ", ")
                found.append("\(path): expected \(expected), got \(value.typeName)")
                return
            }
        }

        if let options = schema["enum"]?.arrayValue, !options.contains(where: { sameJSON($0, value) }) {
            let listed = options.map(describe).joined(separator: ", ")
            found.append("\(path): expected one of [\(listed)], got \(describe(value))")
        }
        if let constant = schema["const"], !sameJSON(constant, value) {
            found.append("\(path): expected \(describe(constant)), got \(describe(value))")
        }

        if case .object(let members) = value {
            checkMembers(members, against: schema, at: path, into: &found)
        }
        if case .array(let elements) = value, let items = schema["items"] {
            for (index, element) in elements.enumerated() {
                check(element, against: items, at: "\(path)[\(index)]", into: &found)
            }
        }

        for branch in schema["allOf"]?.arrayValue ?? [] {
            check(value, against: branch, at: path, into: &found)
        }
        for keyword in ["anyOf", "oneOf"] {
            guard let branches = schema[keyword]?.arrayValue, !branches.isEmpty else { continue }
            checkAnyOf(value, branches: branches, keyword: keyword, at: path, into: &found)
        }
    }

    private static func checkMembers(
        _ members: JSONObject,
        against schema: JSONObject,
        at path: String,
        into found: inout [String]
    ) {
        for case .string(let name) in schema["required"]?.arrayValue ?? [] where members[name] == nil {
            found.append("\(path): missing required property \"\(name)\"")
        }
        let properties = schema["properties"]?.objectValue ?? JSONObject()
        for (name, member) in members {
            let memberPath = path + pathComponent(name)
            if let propertySchema = properties[name] {
                check(member, against: propertySchema, at: memberPath, into: &found)
            } else if let additional = schema["additionalProperties"] {
                if additional == .bool(false) {
                    found.append("\(memberPath): unexpected property (additionalProperties is false)")
                } else {
                    check(member, against: additional, at: memberPath, into: &found)
                }
            }
        }
    }

    /// Passes when at least one branch has no violations; otherwise reports the branch that
    /// came closest, so the message points at a likely culprit.
    private static func checkAnyOf(
        _ value: JSONValue,
        branches: [JSONValue],
        keyword: String,
        at path: String,
        into found: inout [String]
    ) {
        var closest: [String] = []
        for branch in branches {
            var branchFound: [String] = []
            check(value, against: branch, at: path, into: &branchFound)
            if branchFound.isEmpty { return }
            if closest.isEmpty || branchFound.count < closest.count { closest = branchFound }
        }
        let detail = closest.joined(separator: "; ")
        found.append("\(path): matches none of the \(branches.count) \(keyword) branches; closest: \(detail)")
    }

    private static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object):
            true
        case ("number", .int), ("number", .double), ("integer", .int):
            true
        case ("integer", .double(let number)):
            number.isFinite && number.rounded() == number
        default:
            false
        }
    }

    /// JSON equality, except that numbers compare by value, so `1` equals `1.0`.
    private static func sameJSON(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.int, .int), (.int, .double), (.double, .int), (.double, .double):
            lhs.doubleValue == rhs.doubleValue
        case (.array(let left), .array(let right)):
            left.count == right.count && zip(left, right).allSatisfy { sameJSON($0, $1) }
        case (.object(let left), .object(let right)):
            left.count == right.count
                && left.allSatisfy { member in right[member.key].map { sameJSON(member.value, $0) } ?? false }
        default:
            lhs == rhs
        }
    }

    /// `.name` for an identifier-like key, `["key"]` otherwise.
    private static func pathComponent(_ name: String) -> String {
        func isWordCharacter(_ character: Character) -> Bool {
            character == "_" || character == "$" || (character.isASCII && (character.isLetter || character.isNumber))
        }
        let isIdentifier = name.first.map { !$0.isNumber } == true && name.allSatisfy(isWordCharacter)
        return isIdentifier ? "." + name : "[" + describe(.string(name)) + "]"
    }

    /// A short rendering of a value for messages: scalars in full, containers summarized.
    private static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let flag): flag ? "true" : "false"
        case .int(let number): String(number)
        case .double(let number): String(number)
        case .string(let text):
            "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case .array(let elements): "an array of \(elements.count)"
        case .object(let members): "an object with \(members.count) members"
        }
    }
}

/// The response-body schemas of the Port operations the emulator serves, copied from Port's
/// OpenAPI document by `scripts/extract-response-schemas.py` into
/// `Tests/TestSupport/Resources/port-response-schemas.json`.
///
/// Operations are keyed `"METHOD /path STATUS"` with the path as the document writes it,
/// for example `"GET /v1/actions/runs/{run_id} 200"`.
public struct PortResponseSchemas: Sendable {
    /// The schemas by operation key.
    public let schemas: [String: OpenAPISchema]

    /// The operation keys, sorted.
    public var operations: [String] { schemas.keys.sorted() }

    /// Schemas keyed by operation.
    public init(schemas: [String: OpenAPISchema]) {
        self.schemas = schemas
    }

    /// The schemas in a JSON file shaped like `port-response-schemas.json`.
    public init(contentsOf url: URL) throws {
        let bytes: Data
        do {
            bytes = try Data(contentsOf: url)
        } catch {
            throw PortResponseSchemasError.unreadable(path: url.path, reason: "\(error)")
        }
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch {
            throw PortResponseSchemasError.unreadable(path: url.path, reason: "\(error)")
        }
        guard let members = document.objectValue else {
            throw PortResponseSchemasError.unreadable(path: url.path, reason: "the top level is not a JSON object")
        }
        var schemas: [String: OpenAPISchema] = [:]
        for (key, schema) in members { schemas[key] = OpenAPISchema(schema) }
        self.init(schemas: schemas)
    }

    /// The committed schema file, found beside this source file (not through a bundle).
    public static let defaultURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .appendingPathComponent("Resources/port-response-schemas.json")

    private static let shared = Result { try PortResponseSchemas(contentsOf: defaultURL) }

    /// The committed schemas, read once per process.
    public static func load() throws -> PortResponseSchemas {
        try shared.get()
    }

    /// The ways `body` breaks the schema documented for `operation` (such as
    /// `"GET /v1/actions/runs/{run_id} 200"`), one readable line each; empty when it conforms.
    ///
    /// Throws `PortResponseSchemasError.unknownOperation` when the file has no such key.
    public func violations(of body: JSONValue, for operation: String) throws -> [String] {
        guard let schema = schemas[operation] else {
            throw PortResponseSchemasError.unknownOperation(operation, known: operations)
        }
        return schema.violations(of: body)
    }
}

/// Why `PortResponseSchemas` could not answer.
public enum PortResponseSchemasError: Error, CustomStringConvertible {
    /// The schema file is missing or not a JSON object.
    case unreadable(path: String, reason: String)
    /// No schema is recorded under this operation key; `known` lists the keys that are.
    case unknownOperation(String, known: [String])

    /// A sentence saying what went wrong.
    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            "cannot read the response schemas at \(path): \(reason)"
        case .unknownOperation(let operation, let known):
            "no response schema for \"\(operation)\"; expected a key like \"GET /v1/actions/runs/{run_id} 200\". "
                + "Known keys: \(known.joined(separator: ", "))"
        }
    }
}
