import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

@Suite("Workflow node runs", .heavy, .timeLimit(.minutes(10)))
struct WorkflowTests {
    @Test("a KAFKA node publishes its wrapped message; PATCH and logs report it; COMPLETED locks it")
    func nodeRun() async throws {
        try await EmulatorHarness.run { harness in
            let reader = try harness.runsReader()
            let token = try await harness.token()
            let started = try await harness.call(
                "POST",
                "/_emulator/workflows/provision_environment/runs",
                body: #"{"inputs":{"name":"preview-42"},"user":"dev@example.com"}"#
            )
            #expect(started.status == 201, "\(started.json.compactText)")
            let run = try #require(started.json["workflowRun"])
            let runID = try #require(run["id"]?.stringValue)
            #expect(runID.hasPrefix("wfr_"))
            let nodeRun = try #require(run["nodeRuns"]?.arrayValue?.first { $0["node"] == "provision" })
            let nodeRunID = try #require(nodeRun["id"]?.stringValue)
            #expect(nodeRunID.hasPrefix("wfnr_"))

            let message = try await reader.json(key: nodeRunID)
            #expect(
                message["payload"] == [
                    "environment": "preview-42", "region": "eu-west-1", "ttlHours": 24,
                    "requestedBy": "dev@example.com",
                ]
            )
            #expect(
                message["context"] == [
                    "workflowRunId": .string(runID), "nodeRunId": .string(nodeRunID),
                    "workflow": "provision_environment", "node": "provision",
                ]
            )

            let byNode = "/v1/workflows/nodes/runs/\(nodeRunID)"
            let byRun = "/v1/workflows/runs/\(runID)/nodes/\(nodeRunID)"
            let progress = try await harness.call(
                "PATCH",
                byNode,
                token: token,
                body: #"{"status":"IN_PROGRESS","links":["https://ci.example.com/7"]}"#
            )
            #expect(progress.status == 200)
            #expect(progress.json["nodeRun"]?["links"] == ["https://ci.example.com/7"])
            let logged = try await harness.call(
                "POST",
                byNode + "/logs",
                token: token,
                body: #"{"logs":[{"level":"INFO","message":"terraform apply"}]}"#
            )
            #expect(logged.status == 200)
            let noResult = try await harness.call("PATCH", byRun, token: token, body: #"{"status":"COMPLETED"}"#)
            #expect(noResult.status == 422)
            #expect(noResult.json["error"] == "invalid_request")
            let wrongRun = try await harness.call(
                "PATCH",
                "/v1/workflows/runs/wfr_0000000000000000/nodes/\(nodeRunID)",
                token: token,
                body: #"{"status":"IN_PROGRESS"}"#
            )
            #expect(wrongRun.status == 404)
            let completed = try await harness.call(
                "PATCH",
                byRun,
                token: token,
                body: #"{"status":"COMPLETED","result":"SUCCESS","output":{"url":"https://preview-42.example.com"}}"#
            )
            #expect(completed.status == 200)
            #expect(completed.json["nodeRun"]?["output"] == ["url": "https://preview-42.example.com"])
            for (method, path, body) in [
                ("PATCH", byNode, #"{"status":"IN_PROGRESS"}"#),
                ("POST", byNode + "/logs", #"{"logs":[{"level":"INFO","message":"late"}]}"#),
            ] {
                let refused = try await harness.call(method, path, token: token, body: body)
                #expect(refused.status == 422, "\(method) \(path)")
                #expect(refused.json["error"] == "run_exhausted")
            }
            let detail = try await harness.call("GET", "/_emulator/workflows/runs/\(runID)")
            #expect(detail.json["workflowRun"]?["status"] == "COMPLETED")
            #expect(detail.json["workflowRun"]?["result"] == "SUCCESS")
            let fetched = try await harness.call("GET", byNode, token: token)
            #expect(fetched.json["nodeRun"]?["logs"]?.arrayValue?.map { $0["message"] } == ["terraform apply"])
            #expect(harness.emulator.recorder.journal.last?.runID == nodeRunID)
            await reader.close()
        }
    }

    @Test("bad workflow input and bad node-run bodies are refused with the field named")
    func refusals() async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            let missing = try await harness.call(
                "POST",
                "/_emulator/workflows/provision_environment/runs",
                body: #"{"inputs":{}}"#
            )
            #expect(missing.status == 422)
            #expect(missing.json["message"]?.stringValue?.contains("properties.name is required") == true)
            #expect(try await harness.call("POST", "/_emulator/workflows/nope/runs", body: "{}").status == 404)
            let started = try await harness.call(
                "POST",
                "/_emulator/workflows/provision_environment/runs",
                body: #"{"inputs":{"name":"x"}}"#
            )
            let nodeRunID = try #require(
                started.json["workflowRun"]?["nodeRuns"]?.arrayValue?.last?["id"]?.stringValue
            )
            for body in [
                #"{"status":"DONE"}"#, #"{"status":"COMPLETED","result":"OK"}"#, #"{"colour":"red"}"#,
                #"{"links":"x"}"#,
            ] {
                let refused = try await harness.call(
                    "PATCH",
                    "/v1/workflows/nodes/runs/\(nodeRunID)",
                    token: token,
                    body: body
                )
                #expect(refused.status == 422, "\(body)")
            }
            let badLog = try await harness.call(
                "POST",
                "/v1/workflows/nodes/runs/\(nodeRunID)/logs",
                token: token,
                body: #"{"logs":[{"level":"LOUD","message":"x"}]}"#
            )
            #expect(badLog.status == 422)
        }
    }
}
