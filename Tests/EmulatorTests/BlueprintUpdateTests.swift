import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

/// `PUT` and `PATCH /v1/blueprints/{identifier}`: how a blueprint changes after it is
/// created (a relation or an aggregation towards a blueprint created later).
@Suite("Blueprint updates", .heavy, .timeLimit(.minutes(10)))
struct BlueprintUpdateTests {
    @Test("PATCH merges relations and computed properties key by key; PUT replaces; both keep who created it")
    func patchAndPut() async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            let created = try await harness.call(
                "POST",
                "/v1/blueprints",
                token: token,
                body: #"{"identifier":"team","title":"Team","schema":{"properties":{"size":{"type":"number"}}}}"#
            )
            #expect(created.status == 201)
            let createdAt = created.json["blueprint"]?["createdAt"]
            let patched = try await harness.call(
                "PATCH",
                "/v1/blueprints/team",
                token: token,
                body: #"""
                    {"schema": {"properties": {"lead": {"type": "string"}}},
                     "relations": {"owns": {"title": "Owns", "target": "service", "many": true, "required": false}},
                     "aggregationProperties": {"services": {"title": "Services", "target": "service", "calculationSpec": {"calculationBy": "entities", "func": "count"}}}}
                    """#
            )
            #expect(patched.status == 200, "\(patched.json.compactText)")
            let blueprint = try #require(patched.json["blueprint"])
            #expect(blueprint["title"] == "Team" && blueprint["createdAt"] == createdAt)
            #expect(
                blueprint["schema"]?["properties"]?["size"] != nil && blueprint["schema"]?["properties"]?["lead"] != nil
            )
            #expect(blueprint["relations"]?["owns"]?["target"] == "service")
            _ = try await harness.call(
                "POST",
                "/v1/blueprints/service/entities",
                token: token,
                body: #"{"identifier":"api"}"#
            )
            let team = try await harness.call(
                "POST",
                "/v1/blueprints/team/entities",
                token: token,
                body: #"{"identifier":"core","relations":{"owns":["api"]}}"#
            )
            #expect(team.json["entity"]?["properties"]?["services"] == 1, "\(team.json.compactText)")

            let replaced = try await harness.call(
                "PUT",
                "/v1/blueprints/team",
                token: token,
                body: #"{"identifier":"team","title":"Squad","schema":{"properties":{}}}"#
            )
            #expect(replaced.status == 200)
            #expect(replaced.json["blueprint"]?["title"] == "Squad" && replaced.json["blueprint"]?["relations"] == [:])
            #expect(replaced.json["blueprint"]?["createdAt"] == createdAt)
        }
    }

    static let refusals: [(method: String, path: String, body: String, status: Int, message: String)] = [
        ("PATCH", "/v1/blueprints/nope", #"{"title":"x"}"#, 404, "Blueprint with identifier \"nope\" was not found"),
        ("PUT", "/v1/blueprints/service", #"{"identifier":"other"}"#, 422, "a blueprint's identifier cannot change"),
        (
            "PATCH", "/v1/blueprints/service",
            #"{"relations":{"x":{"title":"X","target":"ghost","required":false,"many":false}}}"#, 404,
            "relations.x.target \"ghost\" names a blueprint that does not exist"
        ),
        (
            "PATCH", "/v1/blueprints/service",
            #"{"calculationProperties":{"c":{"title":"C","type":"string","calculation":".a +"}}}"#,
            422, "body.calculationProperties.c.calculation is not valid jq"
        ),
        ("PATCH", "/v1/blueprints/service", "[]", 422, "body must be a JSON object"),
    ]

    @Test("a change Port refuses is refused, and the blueprint stays as it was", arguments: refusals)
    func refused(method: String, path: String, body: String, status: Int, message: String) async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            let before = try harness.emulator.catalog.blueprint("service")
            let response = try await harness.call(method, path, token: token, body: body)
            #expect(response.status == status, "\(response.json.compactText)")
            #expect(response.json["message"]?.stringValue?.contains(message) == true, "\(response.json.compactText)")
            #expect(try harness.emulator.catalog.blueprint("service") == before)
        }
    }
}
