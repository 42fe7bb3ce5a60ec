import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

/// One entity request and what Port answers.
struct EntityCase: Sendable, CustomTestStringConvertible {
    let name: String
    let method: String
    let path: String
    let body: String?
    let status: Int
    let code: String?

    var testDescription: String { name }
}

/// The entity rules of contract §4, against the `service` and `vm` fixture blueprints.
/// Before each case `service/api` exists (environment staging, version 1.0).
let entityCases: [EntityCase] = [
    EntityCase(
        name: "create is 201",
        method: "POST",
        path: "/v1/blueprints/service/entities",
        body: #"{"identifier":"web","properties":{"environment":"production"}}"#,
        status: 201,
        code: nil
    ),
    EntityCase(
        name: "an existing identifier without upsert is 409 identifier_taken",
        method: "POST",
        path: "/v1/blueprints/service/entities",
        body: #"{"identifier":"api"}"#,
        status: 409,
        code: "identifier_taken"
    ),
    EntityCase(
        name: "upsert of an existing entity is 200",
        method: "POST",
        path: "/v1/blueprints/service/entities?upsert=true",
        body: #"{"identifier":"api","properties":{"version":"2.0"}}"#,
        status: 200,
        code: nil
    ),
    EntityCase(
        name: "an unknown blueprint is 404 not_found",
        method: "POST",
        path: "/v1/blueprints/nope/entities",
        body: #"{"identifier":"x"}"#,
        status: 404,
        code: "not_found"
    ),
    EntityCase(
        name: "a property of the wrong type is 422 blueprint_schema_mismatch",
        method: "POST",
        path: "/v1/blueprints/service/entities",
        body: #"{"identifier":"x","properties":{"replicas":"three"}}"#,
        status: 422,
        code: "blueprint_schema_mismatch"
    ),
    EntityCase(
        name: "a value outside the enum is 422 blueprint_schema_mismatch",
        method: "PATCH",
        path: "/v1/blueprints/service/entities/api",
        body: #"{"properties":{"environment":"moon"}}"#,
        status: 422,
        code: "blueprint_schema_mismatch"
    ),
    EntityCase(
        name: "a missing required property is 422 blueprint_schema_mismatch",
        method: "POST",
        path: "/v1/blueprints/vm/entities",
        body: #"{"identifier":"vm-1","properties":{"cpu":2}}"#,
        status: 422,
        code: "blueprint_schema_mismatch"
    ),
    EntityCase(
        name: "a property the blueprint lacks is 422 blueprint_schema_mismatch",
        method: "POST",
        path: "/v1/blueprints/service/entities",
        body: #"{"identifier":"x","properties":{"colour":"red"}}"#,
        status: 422,
        code: "blueprint_schema_mismatch"
    ),
    EntityCase(
        name: "an array item of the wrong type is 422 blueprint_schema_mismatch",
        method: "POST",
        path: "/v1/blueprints/vm/entities",
        body: #"{"identifier":"vm-1","properties":{"cpu":2,"region":"eu","tags":["a",1]}}"#,
        status: 422,
        code: "blueprint_schema_mismatch"
    ),
    EntityCase(
        name: "properties that are not an object are 422 invalid_request",
        method: "POST",
        path: "/v1/blueprints/service/entities",
        body: #"{"identifier":"x","properties":[]}"#,
        status: 422,
        code: "invalid_request"
    ),
    EntityCase(
        name: "malformed JSON is 400 bad_request",
        method: "POST",
        path: "/v1/blueprints/service/entities",
        body: #"{"identifier":"#,
        status: 400,
        code: "bad_request"
    ),
    EntityCase(
        name: "PUT of a missing entity is 404 not_found",
        method: "PUT",
        path: "/v1/blueprints/service/entities/nope",
        body: #"{"properties":{}}"#,
        status: 404,
        code: "not_found"
    ),
    EntityCase(
        name: "DELETE is 200 ok",
        method: "DELETE",
        path: "/v1/blueprints/service/entities/api",
        body: nil,
        status: 200,
        code: nil
    ),
    EntityCase(
        name: "DELETE of a missing entity is 404 not_found",
        method: "DELETE",
        path: "/v1/blueprints/service/entities/nope",
        body: nil,
        status: 404,
        code: "not_found"
    ),
    EntityCase(
        name: "run_id of an unknown run is 404 not_found",
        method: "POST",
        path: "/v1/blueprints/service/entities?run_id=r_0000000000000000",
        body: #"{"identifier":"x"}"#,
        status: 404,
        code: "not_found"
    ),
    EntityCase(
        name: "a malformed read flag on a write is 422, and nothing is written",
        method: "POST",
        path: "/v1/blueprints/service/entities?exclude_calculated_properties=yes",
        body: #"{"identifier":"x"}"#,
        status: 422,
        code: "invalid_request"
    ),
    EntityCase(
        name: "upsert must be true or false",
        method: "POST",
        path: "/v1/blueprints/service/entities?upsert=yes",
        body: #"{"identifier":"x"}"#,
        status: 422,
        code: "invalid_request"
    ),
]

@Suite("Entities under blueprints", .heavy, .timeLimit(.minutes(10)))
struct EntityAPITests {
    @Test("each entity rule of the contract", arguments: entityCases)
    func entityRule(_ entityCase: EntityCase) async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            let seeded = try await harness.call(
                "POST",
                "/v1/blueprints/service/entities",
                token: token,
                body: #"{"identifier":"api","properties":{"environment":"staging","version":"1.0"}}"#
            )
            #expect(seeded.status == 201)
            let before = harness.emulator.runs.entities(of: "service")
            let response = try await harness.call(
                entityCase.method,
                entityCase.path,
                token: token,
                body: entityCase.body
            )
            #expect(response.status == entityCase.status, "\(response.json.compactText)")
            #expect(response.json["ok"] == .bool(entityCase.code == nil))
            if let code = entityCase.code {
                #expect(response.json["error"]?.stringValue == code)
                #expect(harness.emulator.runs.entities(of: "service") == before, "a refused write changes nothing")
                #expect(harness.emulator.recorder.violations.last?.code == code)
            }
        }
    }

    @Test("upsert replaces, merge merges, PATCH merges, PUT replaces")
    func writeModes() async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            let path = "/v1/blueprints/service/entities"
            func properties(_ response: (status: Int, json: JSONValue, headers: [String: String])) -> JSONValue? {
                response.json["entity"]?["properties"]
            }
            _ = try await harness.call(
                "POST",
                path,
                token: token,
                body: #"{"identifier":"api","properties":{"version":"1"}}"#
            )
            let merged = try await harness.call(
                "POST",
                path + "?upsert=true&merge=true",
                token: token,
                body: #"{"identifier":"api","properties":{"region":"eu"}}"#
            )
            #expect(properties(merged) == ["version": "1", "region": "eu"])
            let replaced = try await harness.call(
                "POST",
                path + "?upsert=true",
                token: token,
                body: #"{"identifier":"api","properties":{"replicas":2}}"#
            )
            #expect(properties(replaced) == ["replicas": 2])
            let patched = try await harness.call(
                "PATCH",
                path + "/api",
                token: token,
                body: #"{"title":"API","properties":{"version":"3"}}"#
            )
            #expect(properties(patched) == ["replicas": 2, "version": "3"])
            #expect(patched.json["entity"]?["title"] == "API")
            let put = try await harness.call(
                "PUT",
                path + "/api",
                token: token,
                body: #"{"properties":{"region":"us"}}"#
            )
            #expect(properties(put) == ["region": "us"])
            let checkOnly = try await harness.call(
                "POST",
                path + "?validation_only=true",
                token: token,
                body: #"{"identifier":"ghost"}"#
            )
            #expect(checkOnly.status == 201)
            #expect(try await harness.call("GET", path + "/ghost", token: token).status == 404)
            let fetched = try await harness.call("GET", path + "/api", token: token)
            #expect(fetched.json["entity"]?["createdBy"] == "emulator-client-id")
            #expect(fetched.json["entity"]?["blueprint"] == "service")
        }
    }

    @Test("run_id ties changes to an IN_PROGRESS run and is refused once the run is finished")
    func runID() async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            let created = try await harness.call(
                "POST",
                "/v1/actions/create_vm/runs",
                token: token,
                body: #"{"properties":{"name":"vm-1","cpu":2}}"#
            )
            #expect(created.status == 202)
            let runID = try #require(created.json["run"]?["id"]?.stringValue)
            let path = "/v1/blueprints/vm/entities"
            let body = #"{"identifier":"vm-1","properties":{"cpu":2,"region":"eu-west-1"}}"#
            #expect(try await harness.call("POST", path + "?run_id=\(runID)", token: token, body: body).status == 201)
            #expect(
                try await harness.call(
                    "PATCH",
                    path + "/vm-1?run_id=\(runID)",
                    token: token,
                    body: #"{"properties":{"cpu":4}}"#
                ).status == 200
            )
            let finished = try await harness.call(
                "POST",
                "/v1/actions/runs/\(runID)/logs",
                token: token,
                body: #"{"message":"vm ready","terminationStatus":"SUCCESS"}"#
            )
            #expect(finished.status == 201)
            for (method, suffix, requestBody) in [
                ("POST", "?upsert=true&run_id=\(runID)", body), ("PATCH", "/vm-1?run_id=\(runID)", #"{"title":"x"}"#),
                ("PUT", "/vm-1?run_id=\(runID)", body), ("DELETE", "/vm-1?run_id=\(runID)", nil),
            ] {
                let refused = try await harness.call(method, path + suffix, token: token, body: requestBody)
                #expect(refused.status == 400, "\(method)")
                #expect(refused.json["error"] == "run_exhausted", "\(method)")
            }
            #expect(
                try await harness.call("GET", path + "/vm-1", token: token).json["entity"]?["properties"]?["cpu"] == 4
            )

            let detail = try await harness.call("GET", "/_emulator/runs/\(runID)")
            let affected = try #require(detail.json["run"]?["affectedEntities"]?.arrayValue)
            #expect(affected.map { $0["operation"] } == ["CREATE", "UPDATE"])
            #expect(affected.allSatisfy { $0["blueprint"] == "vm" && $0["identifier"] == "vm-1" })
            let journal = harness.emulator.recorder.journal.filter {
                $0.path.hasPrefix("/v1/blueprints/vm/") && $0.method != "GET"
            }
            #expect(journal.allSatisfy { $0.runID == runID }, "the journal names the run of run_id writes")
        }
    }
}

@Suite("Run inputs against the action's userInputs", .heavy, .timeLimit(.minutes(10)))
struct UserInputTests {
    @Test(
        "inputs that break userInputs are 422 user_inputs_schema_invalid, naming the input",
        arguments: [
            (#"{"cpu":2}"#, "properties.name is required"),
            (#"{"name":"vm-1","cpu":3}"#, "properties.cpu must be one of 1, 2, 4, 8 (got 3)"),
            (#"{"name":7,"cpu":2}"#, "properties.name must be a string, not integer"),
            (#"{"name":"vm-1","cpu":2,"gpu":true}"#, "properties.gpu is not an input of the action"),
        ]
    )
    func invalidInputs(inputs: String, problem: String) async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            let response = try await harness.call(
                "POST",
                "/v1/actions/create_vm/runs",
                token: token,
                body: #"{"properties":\#(inputs)}"#
            )
            #expect(response.status == 422)
            #expect(response.json["error"] == "user_inputs_schema_invalid")
            #expect(response.json["message"]?.stringValue?.contains(problem) == true, "\(response.json.compactText)")
            #expect(harness.emulator.runs.runs.isEmpty, "no run is created")
        }
    }

    @Test("inputs left out take the action's defaults")
    func defaults() async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            let response = try await harness.call(
                "POST",
                "/v1/actions/create_vm/runs",
                token: token,
                body: #"{"properties":{"name":"vm-1"}}"#
            )
            #expect(response.status == 202)
            #expect(
                response.json["run"]?["properties"] == [
                    "name": "vm-1", "cpu": 2, "memoryGiB": 4, "region": "eu-west-1",
                ]
            )
        }
    }
}
