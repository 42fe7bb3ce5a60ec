package import PortContract

/// Request bodies checked against Port's own request schemas, from the OpenAPI document the
/// emulator serves (`/openapi.json`, built from Port's): the part of it these operations use,
/// embedded apart (`RequestSchemaDocument`, 25 KB) so that start-up does not parse all 634 KB.
///
/// Most routes check their bodies by hand, with the contract's messages. Blueprint bodies
/// are too rich for that (aggregation, calculation and mirror properties, ownership,
/// change-log destinations), so they are checked against Port's schema itself, and Port's
/// limits (identifier pattern, 100-character identifiers and titles, enums) hold here too.
package enum PortRequestSchemas {
    /// The request bodies checked, and the components they use, parsed once.
    package static let document: JSONValue =
        (try? JSONValue.parse(Array(RequestSchemaDocument.json.utf8))) ?? .null

    /// The served document, parsed: for tests that check `document` is a faithful part of it.
    package static var servedDocument: JSONValue {
        (try? JSONValue.parse(Array(OpenAPIDocument.json.utf8))) ?? .null
    }

    /// `POST /v1/blueprints`: Port's blueprint body.
    static let blueprintSchema = requestSchema("post", "/v1/blueprints")

    /// A blueprint body (from the API or a fixture file), checked against Port's schema, then read.
    static func blueprint(from body: JSONValue) throws(PortError) -> Blueprint {
        try check(body, against: blueprintSchema)
        return try Blueprint(definition: body)
    }

    /// The JSON request-body schema of an operation in the served document.
    static func requestSchema(_ method: String, _ path: String) -> JSONSchema {
        guard
            let schema = document["paths"]?[path]?[method]?["requestBody"]?["content"]?["application/json"]?["schema"]
        else { preconditionFailure("the OpenAPI document has no request schema for \(method) \(path)") }
        return JSONSchema(schema, document: document)
    }

    /// Throws 422 `invalid_request` naming the first fields of `body` that break `schema`.
    static func check(_ body: JSONValue, against schema: JSONSchema) throws(PortError) {
        let violations = schema.violations(of: body, root: "body")
        guard !violations.isEmpty else { return }
        let shown = violations.prefix(3).joined(separator: "; ")
        let more = violations.count > 3 ? " (and \(violations.count - 3) more)" : ""
        throw .invalidRequest(shown + more)
    }
}
