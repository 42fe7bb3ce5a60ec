import PortContract
import Testing

/// The keywords Port's request schemas rely on, which the emulator enforces on blueprint bodies.
@Suite("JSONSchema: the keywords of Port's request schemas", .timeLimit(.minutes(10)))
struct JSONSchemaTests {
    /// Port's blueprint identifier rule, as its OpenAPI document writes it.
    static let identifier: JSONValue = [
        "type": "string", "pattern": #"^(?!\.{1,2}$)[\p{L}0-9@_.+:\\/-]+$"#, "maxLength": 100,
    ]

    @Test("pattern reads Port's \\p{L} and look-ahead; maxLength counts code points")
    func patternAndLength() {
        let schema = JSONSchema(Self.identifier)
        #expect(schema.violations(of: "café-service_1") == [])
        #expect(schema.violations(of: .string(String(repeating: "é", count: 100))) == [])
        #expect(
            schema.violations(of: .string(String(repeating: "a", count: 101)))
                == ["$: expected at most 100 character(s), got 101"]
        )
        #expect(schema.violations(of: "..").count == 1)
        #expect(schema.violations(of: "has space").first?.contains("does not match the pattern") == true)
    }

    @Test("format uri needs a scheme and a rest (a change-log webhook's url); other formats are not read")
    func uriFormat() {
        let schema = JSONSchema(["type": "string", "format": "uri"])
        #expect(schema.violations(of: "https://example.com/hook") == [])
        #expect(schema.violations(of: "urn:port:x") == [])
        for text in ["", "example.com", ":x", "https:", "1http://x"] {
            #expect(schema.violations(of: .string(text)).first?.contains("is not a URI") == true, "\(text)")
        }
        #expect(JSONSchema(["type": "string", "format": "email"]).violations(of: "not an email") == [])
    }

    @Test("minimum, maximum, minItems, maxItems and propertyNames")
    func boundsAndNames() {
        let schema = JSONSchema([
            "type": "object",
            "properties": [
                "limit": ["type": "number", "minimum": 1, "maximum": 1000],
                "tags": ["type": "array", "minItems": 1, "maxItems": 2],
            ],
            "propertyNames": ["maxLength": 5],
        ])
        #expect(schema.violations(of: ["limit": 1, "tags": ["a"]]) == [])
        #expect(
            schema.violations(of: ["limit": 0, "tags": []]) == [
                "$.limit: expected at least 1, got 0", "$.tags: expected at least 1 item(s), got 0",
            ]
        )
        #expect(
            schema.violations(of: ["limit": 1001.5, "tags": ["a", "b", "c"]]) == [
                "$.limit: expected at most 1000, got 1001.5", "$.tags: expected at most 2 item(s), got 3",
            ]
        )
        #expect(
            schema.violations(of: ["toolong": 1])
                == [#"$.toolong: expected at most 5 character(s), got 7 (in the property's name)"#]
        )
    }

    @Test("$ref resolves inside the document, and a missing target is reported, not ignored")
    func references() {
        let document: JSONValue = [
            "components": ["schemas": ["rule": ["type": "object", "required": ["operator"]]]]
        ]
        let schema = JSONSchema(
            ["type": "array", "items": ["$ref": "#/components/schemas/rule"]],
            document: document
        )
        #expect(schema.violations(of: [["operator": "="]]) == [])
        #expect(schema.violations(of: [[:]], root: "body") == [#"body[0]: missing required property "operator""#])
        let dangling = JSONSchema(["$ref": "#/components/schemas/missing"], document: document)
        #expect(dangling.violations(of: 1).first?.contains("does not have") == true)
    }

    @Test("a $ref cycle that never reaches a value ends with a violation, not a crash")
    func referenceCycle() {
        let document: JSONValue = ["components": ["schemas": ["loop": ["$ref": "#/components/schemas/loop"]]]]
        let schema = JSONSchema(["$ref": "#/components/schemas/loop"], document: document)
        #expect(schema.violations(of: 1).first?.contains("nests too deeply") == true)
    }
}
