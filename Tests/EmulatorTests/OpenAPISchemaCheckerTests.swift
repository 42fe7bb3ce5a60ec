import PortContract
import TestSupport
import Testing

/// The checker behind the response-schema tests must be able to fail, or those tests prove nothing.
@Suite("The OpenAPI response-schema checker", .heavy, .timeLimit(.minutes(10)))
struct OpenAPISchemaCheckerTests {
    static let runOperation = "GET /v1/actions/runs/{run_id} 200"
    static let tokenOperation = "POST /v1/auth/access_token 200"

    /// A run body with everything Port requires, except that `id` may be left out.
    static func runBody(id: JSONValue?, status: JSONValue) -> JSONValue {
        var run: JSONObject = [
            "status": status,
            "action": ["identifier": "deploy"],
            "properties": [:],
            "requiredApproval": false,
            "source": "API",
        ]
        run["id"] = id
        return ["ok": true, "run": .object(run)]
    }

    @Test("a well-formed run body has no violations")
    func wellFormedRun() throws {
        let schemas = try PortResponseSchemas.load()
        let body = Self.runBody(id: "r_1", status: "IN_PROGRESS")
        #expect(try schemas.violations(of: body, for: Self.runOperation) == [])
    }

    @Test("a run body without id is reported")
    func runWithoutID() throws {
        let schemas = try PortResponseSchemas.load()
        let body = Self.runBody(id: nil, status: "IN_PROGRESS")
        #expect(try schemas.violations(of: body, for: Self.runOperation) == [#"$.run: missing required property "id""#])
    }

    @Test("a run status of the wrong type is reported")
    func runStatusNotAString() throws {
        let schemas = try PortResponseSchemas.load()
        let body = Self.runBody(id: "r_1", status: 5)
        #expect(
            try schemas.violations(of: body, for: Self.runOperation) == ["$.run.status: expected string, got integer"]
        )
    }

    @Test("a well-formed access-token body has no violations")
    func wellFormedToken() throws {
        let schemas = try PortResponseSchemas.load()
        let body: JSONValue = ["ok": true, "accessToken": "token", "expiresIn": 3600, "tokenType": "Bearer"]
        #expect(try schemas.violations(of: body, for: Self.tokenOperation) == [])
    }

    @Test("additionalProperties false catches an extra top-level key")
    func tokenWithExtraKey() throws {
        let schemas = try PortResponseSchemas.load()
        let body: JSONValue = [
            "ok": true, "accessToken": "token", "expiresIn": 3600, "tokenType": "Bearer", "refreshToken": "x",
        ]
        #expect(
            try schemas.violations(of: body, for: Self.tokenOperation)
                == ["$.refreshToken: unexpected property (additionalProperties is false)"]
        )
    }

    @Test("an operation key that is not in the schema file throws")
    func unknownOperation() throws {
        let schemas = try PortResponseSchemas.load()
        #expect(throws: PortResponseSchemasError.self) {
            try schemas.violations(of: ["ok": true], for: "GET /v1/no-such-route 200")
        }
    }

    @Test("integer, nullable and anyOf follow the JSON Schema rules")
    func keywordSubset() {
        let schema = JSONSchema([
            "type": "object",
            "properties": [
                "count": ["type": "integer"],
                "label": ["type": "string", "nullable": true],
                "link": ["anyOf": [["type": "string"], ["type": "array", "items": ["type": "string"]]]],
            ],
        ])
        #expect(schema.violations(of: ["count": 2.0, "label": nil, "link": ["a"]]) == [])
        #expect(
            schema.violations(of: ["count": 2.5, "label": 1, "link": 5]) == [
                "$.count: expected integer, got number",
                "$.label: expected string, got integer",
                "$.link: matches none of the 2 anyOf branches; closest: $.link: expected string, got integer",
            ]
        )
    }
}
