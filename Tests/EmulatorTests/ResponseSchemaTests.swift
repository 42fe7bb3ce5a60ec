import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

/// Fields the contract (§4) puts on entity objects that Port's OpenAPI document leaves out
/// of its entity schema, which says `additionalProperties: false`. Port's real messages
/// (seeds/004) carry them, so the emulator does too and the check allows exactly these.
private let contractEntityFields = ["blueprint", "createdAt", "createdBy", "updatedAt", "updatedBy"]

@Suite("Response bodies follow Port's OpenAPI schemas", .heavy, .timeLimit(.minutes(10)))
struct ResponseSchemaTests {
    /// Every success and error body the consumer-facing routes answer, checked against the
    /// schema Port documents for that operation and status.
    @Test("runs, logs, entities, blueprints and tokens have every required field with its type")
    func responseBodies() async throws {
        let schemas = try PortResponseSchemas.load()
        try await EmulatorHarness.run { harness in
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

            // Each step: a call, the operation whose schema its answer must follow, and its status.
            // They run in order: the entity exists before the run is triggered, the run is
            // finished before it is listed, the entity is deleted last.
            struct Step {
                let method: String
                let path: String
                let operation: String
                var authorized = true
                var body: String?
                let status: Int
            }
            func perform(_ step: Step) async throws {
                _ = try await check(
                    step.method,
                    step.path,
                    as: step.operation,
                    token: step.authorized ? token : nil,
                    body: step.body,
                    expecting: step.status
                )
            }
            let entities = "/v1/blueprints/{blueprint_identifier}/entities"
            let entity = "\(entities)/{entity_identifier}"
            let runs = "/v1/actions/{action_identifier}/runs"
            for step in [
                Step(
                    method: "POST",
                    path: "/v1/blueprints/service/entities",
                    operation: entities,
                    body: #"{"identifier":"api","title":"API","properties":{"version":"1.0","environment":"staging"}}"#,
                    status: 201
                ),
                Step(
                    method: "POST",
                    path: "/v1/blueprints/service/entities",
                    operation: entities,
                    body: #"{"identifier":"web","properties":{"environment":"moon"}}"#,
                    status: 422
                ),
                Step(method: "GET", path: "/v1/blueprints/service/entities", operation: entities, status: 200),
                Step(method: "GET", path: "/v1/blueprints/service/entities/api", operation: entity, status: 200),
                Step(method: "GET", path: "/v1/blueprints/service/entities/nope", operation: entity, status: 404),
                Step(
                    method: "GET",
                    path: "/v1/blueprints/service/entities/api",
                    operation: entity,
                    authorized: false,
                    status: 401
                ),
                Step(
                    method: "POST",
                    path: "/v1/actions/nope/runs",
                    operation: runs,
                    body: #"{"properties":{}}"#,
                    status: 404
                ),
            ] {
                try await perform(step)
            }

            let trigger = try await check(
                "POST",
                "/v1/actions/deploy_service/runs",
                as: runs,
                token: token,
                body: #"{"properties":{"version":"2.0","environment":"production"},"entity":"api"}"#,
                expecting: 202
            )
            let runID = try #require(trigger["run"]?["id"]?.stringValue)
            let run = "/v1/actions/runs/{run_id}"
            let logs = "\(run)/logs"
            for step in [
                Step(method: "GET", path: "/v1/actions/runs/\(runID)?version=v2", operation: run, status: 200),
                Step(method: "GET", path: "/v1/actions/runs/r_0000000000000000", operation: run, status: 404),
                Step(
                    method: "PATCH",
                    path: "/v1/actions/runs/\(runID)?version=v2",
                    operation: run,
                    body: #"{"statusLabel":"deploying","link":["https://ci.example.com/1"],"summary":"going"}"#,
                    status: 200
                ),
                Step(
                    method: "PATCH",
                    path: "/v1/actions/runs/\(runID)",
                    operation: run,
                    body: #"{"status":"IN_PROGRESS"}"#,
                    status: 422
                ),
                Step(
                    method: "PUT",
                    path: "/v1/blueprints/service/entities/api?run_id=\(runID)",
                    operation: entity,
                    body: #"{"title":"API","properties":{"version":"2.0","environment":"production"}}"#,
                    status: 200
                ),
                Step(
                    method: "PATCH",
                    path: "/v1/blueprints/service/entities/api?run_id=\(runID)",
                    operation: entity,
                    body: #"{"properties":{"replicas":3}}"#,
                    status: 200
                ),
                Step(
                    method: "POST",
                    path: "/v1/actions/runs/\(runID)/logs",
                    operation: logs,
                    body: #"{"message":"deployed"}"#,
                    status: 201
                ),
                Step(
                    method: "POST",
                    path: "/v1/actions/runs/\(runID)/logs",
                    operation: logs,
                    body: #"{"text":"wrong field"}"#,
                    status: 422
                ),
                Step(method: "GET", path: "/v1/actions/runs/\(runID)/logs", operation: logs, status: 200),
                Step(
                    method: "PATCH",
                    path: "/v1/actions/runs/\(runID)?version=v2",
                    operation: run,
                    body: #"{"status":"SUCCESS"}"#,
                    status: 200
                ),
                Step(
                    method: "GET",
                    path: "/v1/actions/runs?version=v2&active=false",
                    operation: "/v1/actions/runs",
                    status: 200
                ),
                Step(method: "DELETE", path: "/v1/blueprints/service/entities/api", operation: entity, status: 200),
                Step(method: "GET", path: "/v1/blueprints", operation: "/v1/blueprints", status: 200),
                Step(
                    method: "POST",
                    path: "/v1/blueprints",
                    operation: "/v1/blueprints",
                    body:
                        #"{"identifier":"cluster","title":"Cluster","schema":{"properties":{"nodes":{"type":"number"}}}}"#,
                    status: 201
                ),
                Step(
                    method: "GET",
                    path: "/v1/blueprints/cluster",
                    operation: "/v1/blueprints/{identifier}",
                    status: 200
                ),
                Step(
                    method: "GET",
                    path: "/v1/blueprints/missing",
                    operation: "/v1/blueprints/{identifier}",
                    status: 404
                ),
            ] {
                try await perform(step)
            }

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
        }
    }
}
