import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

/// Entity inputs of actions (`format: entity`, alone or as an array's items): the chosen
/// entity must exist in the input's blueprint and match its `dataset`, as Port's form offers it.
@Suite("Entity inputs and their datasets", .heavy, .timeLimit(.minutes(10)))
struct EntityInputTests {
    static let action = #"""
        {"identifier": "pick_environment", "title": "Pick an environment",
         "trigger": {"type": "self-service", "operation": "CREATE", "blueprintIdentifier": "service",
           "userInputs": {"properties": {
             "region": {"type": "string"},
             "env": {"type": "string", "format": "entity", "blueprint": "environment",
                     "dataset": {"combinator": "and", "rules": [{"property": "status", "operator": "=", "value": "active"}]}},
             "sameRegion": {"type": "string", "format": "entity", "blueprint": "environment",
                     "dataset": {"combinator": "and", "rules": [{"property": "region", "operator": "=", "value": {"jqQuery": ".form.region"}}]}},
             "others": {"type": "array", "items": {"type": "string", "format": "entity", "blueprint": "environment"}}
           }, "required": []}},
         "invocationMethod": {"type": "KAFKA"}}
        """#

    static let cases: [(inputs: String, status: Int, message: String?)] = [
        (#"{"env": "eu-active"}"#, 202, nil),
        (#"{"env": "us-expired"}"#, 422, "properties.env: entity \"us-expired\" is not one the input's dataset offers"),
        (#"{"env": "nowhere"}"#, 422, "properties.env: entity \"nowhere\" of blueprint \"environment\" does not exist"),
        (#"{"region": "us", "sameRegion": "us-expired"}"#, 202, nil),
        (#"{"region": "eu", "sameRegion": "us-expired"}"#, 422, "properties.sameRegion"),
        (#"{"others": ["eu-active", "us-expired"]}"#, 202, nil),
        (#"{"others": ["eu-active", "gone"]}"#, 422, "properties.others: entity \"gone\""),
    ]

    @Test("a chosen entity that is missing or outside the dataset is 422 user_inputs_schema_invalid", arguments: cases)
    func entityInput(inputs: String, status: Int, message: String?) async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            for (identifier, region, state) in [("eu-active", "eu", "active"), ("us-expired", "us", "expired")] {
                let created = try await harness.call(
                    "POST",
                    "/v1/blueprints/environment/entities",
                    token: token,
                    body: #"{"identifier":"\#(identifier)","properties":{"region":"\#(region)","status":"\#(state)"}}"#
                )
                #expect(created.status == 201)
            }
            let defined = try await harness.call("POST", "/v1/actions", token: token, body: Self.action)
            #expect(defined.status == 201, "\(defined.json.compactText)")
            let triggered = try await harness.call(
                "POST",
                "/v1/actions/pick_environment/runs",
                token: token,
                body: #"{"properties": \#(inputs)}"#
            )
            #expect(triggered.status == status, "\(triggered.json.compactText)")
            if let message {
                #expect(triggered.json["error"] == "user_inputs_schema_invalid")
                #expect(
                    triggered.json["message"]?.stringValue?.contains(message) == true,
                    "\(triggered.json.compactText)"
                )
                #expect(harness.emulator.runs.runs.isEmpty, "a refused trigger creates no run")
            }
        }
    }
}
