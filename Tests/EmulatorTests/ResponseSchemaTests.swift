import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

/// Fields the contract (§4) puts on entity objects that Port's OpenAPI document leaves out
/// of its entity schema, which says `additionalProperties: false`. Port's real messages
/// (seeds/004) carry them, so the emulator does too and the check allows exactly these.
private let contractEntityFields = ["blueprint", "createdAt", "createdBy", "updatedAt", "updatedBy"]

@Suite("Response bodies follow Port's OpenAPI schemas")
struct ResponseSchemaTests {
    /// Every success and error body the consumer-facing routes answer, checked against the
    /// schema Port documents for that operation and status.
    @Test("runs, logs, entities, blueprints and tokens have every required field with its type")
    func responseBodies() async throws {
        let schemas = try PortResponseSchemas.load()
        let harness = try await EmulatorHarness.start()
        var checked: [String] = []  // operation keys, e.g. "GET /v1/actions/runs/{run_id} 200"

        func check(
            _ method: String,
            _ path: String,
            as operation: String,
            token: String? = nil,
            body: String? = nil,
            expecting status: Int
        ) async throws -> JSONValue {
            let response = try await harness.call(method, path, token: token, body: body)
            #expect(response.status == status, "\(method) \(path): \(response.json.compactText)")
            let key = "\(method) \(operation) \(response.status)"
            let problems = try schemas.violations(of: response.json, for: key).filter { problem in
                !contractEntityFields.contains {
                    problem.hasSuffix(".\($0): unexpected property (additionalProperties is false)")
                }
            }
            #expect(problems.isEmpty, "\(key): \(problems.joined(separator: "\n"))")
            checked.append(key)
            return response.json
        }

        let credentials =
            #"{"clientId":"emulator-client-id","clientSecret":"\#(EmulatorConfiguration.defaultClientSecret)"}"#
        let tokenBody = try await check(
            "POST",
            "/v1/auth/access_token",
            as: "/v1/auth/access_token",
            body: credentials,
            expecting: 200
        )
        let token = try #require(tokenBody["accessToken"]?.stringValue)
        _ = try await check(
            "POST",
            "/v1/auth/access_token",
            as: "/v1/auth/access_token",
            body: #"{"clientId":"x","clientSecret":"y"}"#,
            expecting: 401
        )
        _ = try await check(
            "POST",
            "/v1/auth/access_token",
            as: "/v1/auth/access_token",
            body: #"{"clientId":1}"#,
            expecting: 422
        )

        let entities = "/v1/blueprints/{blueprint_identifier}/entities"
        let entity = "\(entities)/{entity_identifier}"
        _ = try await check(
            "POST",
            "/v1/blueprints/service/entities",
            as: entities,
            token: token,
            body: #"{"identifier":"api","title":"API","properties":{"version":"1.0","environment":"staging"}}"#,
            expecting: 201
        )
        _ = try await check(
            "POST",
            "/v1/blueprints/service/entities",
            as: entities,
            token: token,
            body: #"{"identifier":"web","properties":{"environment":"moon"}}"#,
            expecting: 422
        )
        _ = try await check("GET", "/v1/blueprints/service/entities", as: entities, token: token, expecting: 200)
        _ = try await check("GET", "/v1/blueprints/service/entities/api", as: entity, token: token, expecting: 200)
        _ = try await check("GET", "/v1/blueprints/service/entities/nope", as: entity, token: token, expecting: 404)
        _ = try await check("GET", "/v1/blueprints/service/entities/api", as: entity, expecting: 401)

        let trigger = try await check(
            "POST",
            "/v1/actions/deploy_service/runs",
            as: "/v1/actions/{action_identifier}/runs",
            token: token,
            body: #"{"properties":{"version":"2.0","environment":"production"},"entity":"api"}"#,
            expecting: 202
        )
        let runID = try #require(trigger["run"]?["id"]?.stringValue)
        _ = try await check(
            "POST",
            "/v1/actions/nope/runs",
            as: "/v1/actions/{action_identifier}/runs",
            token: token,
            body: #"{"properties":{}}"#,
            expecting: 404
        )
        let run = "/v1/actions/runs/{run_id}"
        _ = try await check("GET", "/v1/actions/runs/\(runID)?version=v2", as: run, token: token, expecting: 200)
        _ = try await check("GET", "/v1/actions/runs/r_0000000000000000", as: run, token: token, expecting: 404)
        _ = try await check(
            "PATCH",
            "/v1/actions/runs/\(runID)?version=v2",
            as: run,
            token: token,
            body: #"{"statusLabel":"deploying","link":["https://ci.example.com/1"],"summary":"going"}"#,
            expecting: 200
        )
        _ = try await check(
            "PATCH",
            "/v1/actions/runs/\(runID)",
            as: run,
            token: token,
            body: #"{"status":"IN_PROGRESS"}"#,
            expecting: 422
        )
        _ = try await check(
            "PUT",
            "/v1/blueprints/service/entities/api?run_id=\(runID)",
            as: entity,
            token: token,
            body: #"{"title":"API","properties":{"version":"2.0","environment":"production"}}"#,
            expecting: 200
        )
        _ = try await check(
            "PATCH",
            "/v1/blueprints/service/entities/api?run_id=\(runID)",
            as: entity,
            token: token,
            body: #"{"properties":{"replicas":3}}"#,
            expecting: 200
        )
        let logs = "/v1/actions/runs/{run_id}/logs"
        _ = try await check(
            "POST",
            "/v1/actions/runs/\(runID)/logs",
            as: logs,
            token: token,
            body: #"{"message":"deployed"}"#,
            expecting: 201
        )
        _ = try await check(
            "POST",
            "/v1/actions/runs/\(runID)/logs",
            as: logs,
            token: token,
            body: #"{"text":"wrong field"}"#,
            expecting: 422
        )
        _ = try await check("GET", "/v1/actions/runs/\(runID)/logs", as: logs, token: token, expecting: 200)
        _ = try await check(
            "PATCH",
            "/v1/actions/runs/\(runID)?version=v2",
            as: run,
            token: token,
            body: #"{"status":"SUCCESS"}"#,
            expecting: 200
        )
        _ = try await check(
            "GET",
            "/v1/actions/runs?version=v2&active=false",
            as: "/v1/actions/runs",
            token: token,
            expecting: 200
        )
        _ = try await check(
            "DELETE",
            "/v1/blueprints/service/entities/api",
            as: entity,
            token: token,
            expecting: 200
        )
        _ = try await check("GET", "/v1/blueprints", as: "/v1/blueprints", token: token, expecting: 200)
        _ = try await check(
            "POST",
            "/v1/blueprints",
            as: "/v1/blueprints",
            token: token,
            body: #"{"identifier":"cluster","title":"Cluster","schema":{"properties":{"nodes":{"type":"number"}}}}"#,
            expecting: 201
        )
        _ = try await check(
            "GET",
            "/v1/blueprints/cluster",
            as: "/v1/blueprints/{identifier}",
            token: token,
            expecting: 200
        )
        _ = try await check(
            "GET",
            "/v1/blueprints/missing",
            as: "/v1/blueprints/{identifier}",
            token: token,
            expecting: 404
        )

        let approvalRun = try await harness.createRun(
            #"{"action":"deploy_service","properties":{"version":"1"},"requiredApproval":true}"#
        )
        _ = try await check(
            "PATCH",
            "/v1/actions/runs/\(approvalRun)/approval?version=v2",
            as: "\(run)/approval",
            token: token,
            body: #"{"status":"APPROVE","description":"ship it"}"#,
            expecting: 201
        )
        let documentedSuccesses = schemas.operations.filter {
            $0.hasSuffix(" 200") || $0.hasSuffix(" 201") || $0.hasSuffix(" 202")
        }
        #expect(Set(documentedSuccesses).subtracting(checked).isEmpty, "every documented success body is checked")
        await harness.emulator.stop()
    }
}
