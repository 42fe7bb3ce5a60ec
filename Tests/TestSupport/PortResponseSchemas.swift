public import Foundation
public import PortContract

/// The response-body schemas of the Port operations the emulator serves, copied from Port's
/// OpenAPI document by `scripts/extract-response-schemas.py` into
/// `Tests/TestSupport/Resources/port-response-schemas.json`.
///
/// Operations are keyed `"METHOD /path STATUS"` with the path as the document writes it,
/// for example `"GET /v1/actions/runs/{run_id} 200"`.
public struct PortResponseSchemas: Sendable {
    /// The schemas by operation key.
    public let schemas: [String: JSONSchema]

    /// The operation keys, sorted.
    public var operations: [String] { schemas.keys.sorted() }

    /// Schemas keyed by operation.
    public init(schemas: [String: JSONSchema]) {
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
        var schemas: [String: JSONSchema] = [:]
        for (key, schema) in members { schemas[key] = JSONSchema(schema) }
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
