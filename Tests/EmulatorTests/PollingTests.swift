import Emulator
import Foundation
import PortContract
import Synchronization
import TestSupport
import Testing

/// HTTP polling (contract §9): claims, visibility timeouts on the emulator's clock, acks.
@Suite("HTTP polling", .heavy, .timeLimit(.minutes(10)))
struct PollingTests {
    /// Runs `body` with a harness whose organization polls, as port-agent's start-up PATCH
    /// makes it, and a token; the emulator stops however `body` ends.
    static func withPollingHarness<Value: Sendable>(
        _ body: @escaping @Sendable (EmulatorHarness, String) async throws -> Value
    ) async throws -> Value {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            let patch = try await harness.call(
                "PATCH",
                "/v1/organization",
                token: token,
                body: #"{"settings":{"portAgentStreamerName":"POLLING"}}"#
            )
            #expect(patch.status == 200)
            return try await body(harness, token)
        }
    }

    /// A reserved call, with `x-port-reserved-usage: true` as port-agent sends it.
    static func reserved(
        _ harness: EmulatorHarness,
        _ method: String,
        _ path: String,
        token: String,
        body: String
    ) async throws -> (status: Int, json: JSONValue) {
        let response = try await RawHTTPClient.send(
            port: harness.port,
            method: method,
            path: path,
            headers: [
                ("Content-Type", "application/json"), ("Authorization", "Bearer \(token)"),
                ("x-port-reserved-usage", "true"),
            ],
            body: Array(body.utf8)
        )
        return (response.status, try JSONValue.parse(response.body))
    }

    static func claim(
        _ harness: EmulatorHarness,
        token: String,
        _ body: String = #"{"installationId":"agent-1","limit":10}"#
    )
        async throws -> [JSONValue]
    {
        let answer = try await reserved(harness, "POST", "/v1/actions/runs/claim-pending", token: token, body: body)
        #expect(answer.status == 200, "\(answer.json)")
        return answer.json["runs"]?.arrayValue ?? []
    }

    static func trigger(_ harness: EmulatorHarness, token: String, _ name: String = "poll-vm") async throws -> String {
        let created = try await harness.call(
            "POST",
            "/v1/actions/create_vm/runs",
            token: token,
            body: #"{"properties":{"name":"\#(name)","cpu":2,"region":"eu"}}"#
        )
        return try #require(created.json["run"]?["id"]?.stringValue)
    }

    @Test(
        "claim, reclaim after the visibility timeout, ack with both shapes, never again after ack, 409 on a second ack"
    )
    func claimAndAck() async throws {
        try await Self.withPollingHarness { harness, token in
            let runID = try await Self.trigger(harness, token: token)
            let unreserved = try await harness.call(
                "POST",
                "/v1/actions/runs/claim-pending",
                token: token,
                body: #"{"installationId":"agent-1"}"#
            )
            #expect(unreserved.status == 403)
            #expect(unreserved.json["error"] == "missing_permissions")

            let now = try #require(
                try await harness.call("GET", "/_emulator/clock").json["clock"]?["now"]?.stringValue.flatMap(
                    TimerInstant.parse
                )
            )
            let first = try await Self.claim(harness, token: token)
            #expect(first.count == 1)
            let run = try #require(first.first)
            #expect(run["id"] == .string(runID))
            #expect(run["status"] == "IN_PROGRESS")
            #expect(run["pendingExecution"] == true)
            #expect(run["installationId"] == "agent-1")
            let until = try #require(run["claimedUntil"]?.stringValue.flatMap(TimerInstant.parse))
            #expect(
                abs(until.timeIntervalSince(now) - 60) < 5,
                "the default visibility timeout is 60 s on the emulator's clock"
            )
            #expect(run["payload"]?["type"] == "KAFKA")
            let body = try #require(run["payload"]?["body"])
            #expect(body["context"]?["runId"] == .string(runID), "the body is the message Kafka would carry")
            #expect(body["payload"]?["properties"]?["name"] == "poll-vm")
            #expect(
                try await harness.call("GET", "/_emulator/runs/\(runID)").json["run"]?["kafka"] == nil,
                "not published to Kafka while the organization polls"
            )

            #expect(
                try await Self.claim(harness, token: token).isEmpty,
                "claimed: not handed out again within its timeout"
            )
            _ = try await harness.call("POST", "/_emulator/clock", body: #"{"advance":"61s"}"#)
            let again = try await Self.claim(harness, token: token, #"{"installationId":"agent-2","limit":1}"#)
            #expect(again.map { $0["id"] } == [.string(runID)], "unacked: back after its visibility timeout")
            #expect(again.first?["installationId"] == "agent-2")

            let acked = try await Self.reserved(
                harness,
                "PATCH",
                "/v1/actions/runs/ack",
                token: token,
                body: #"{"runIds":["\#(runID)"]}"#
            )
            #expect(acked.status == 200)
            #expect(acked.json["ackedCount"] == 1)
            _ = try await harness.call("POST", "/_emulator/clock", body: #"{"advance":"10m"}"#)
            #expect(try await Self.claim(harness, token: token).isEmpty, "acked: never handed out again")
            let twice = try await Self.reserved(
                harness,
                "PATCH",
                "/v1/actions/runs/ack",
                token: token,
                body: #"{"runIds":["\#(runID)"]}"#
            )
            #expect(twice.json["ackedCount"] == 0)
            let ocean = try await Self.reserved(
                harness,
                "PATCH",
                "/v1/actions/runs/ack",
                token: token,
                body: #"{"runId":"\#(runID)"}"#
            )
            #expect(ocean.status == 409)
            #expect(ocean.json["error"] == "already_acked")
            let unknown = try await Self.reserved(
                harness,
                "PATCH",
                "/v1/actions/runs/ack",
                token: token,
                body: #"{"runId":"r_nope"}"#
            )
            #expect(unknown.status == 404)

            // Ocean's single-id shape acks too.
            let second = try await Self.trigger(harness, token: token, "poll-vm-2")
            #expect(try await Self.claim(harness, token: token).map { $0["id"] } == [.string(second)])
            let single = try await Self.reserved(
                harness,
                "PATCH",
                "/v1/actions/runs/ack",
                token: token,
                body: #"{"runId":"\#(second)"}"#
            )
            #expect(single.status == 200)

            // The journal shows who claimed and acked the run: it is no orphan.
            let journal =
                try await harness.call("GET", "/_emulator/journal?run=\(runID)").json["journal"]?.arrayValue ?? []
            let lines = journal.map {
                "\($0["clientId"]?.stringValue ?? "") \($0["method"]?.stringValue ?? "") \($0["path"]?.stringValue ?? "") \($0["status"]?.intValue ?? 0)"
            }
            #expect(
                lines == [
                    "emulator-client-id POST /v1/actions/runs/claim-pending 200",
                    "emulator-client-id POST /v1/actions/runs/claim-pending 200",
                    "emulator-client-id PATCH /v1/actions/runs/ack 200",
                    "emulator-client-id PATCH /v1/actions/runs/ack 409",
                    "emulator-client-id PATCH /v1/actions/runs/ack 409",
                ]
            )
            let detail = try #require(try await harness.call("GET", "/_emulator/runs/\(runID)").json["run"]?["polling"])
            #expect(detail["claims"]?.arrayValue?.map { $0["installationId"] } == ["agent-1", "agent-2"])
            #expect(detail["ackedBy"] == "emulator-client-id")
        }
    }

    @Test("visibilityTimeoutMs, exclude and the invocationMethod filter; finished runs are not handed out")
    func claimOptions() async throws {
        try await Self.withPollingHarness { harness, token in
            let kafkaRun = try await Self.trigger(harness, token: token)
            let agent = try await harness.call(
                "POST",
                "/v1/actions/sync_agent_deploy/runs",
                token: token,
                body: #"{"properties":{"service":"pay"}}"#
            )
            let agentRun = try #require(agent.json["run"]?["id"]?.stringValue)
            let finished = try await Self.trigger(harness, token: token, "done-vm")
            _ = try await harness.call(
                "PATCH",
                "/v1/actions/runs/\(finished)",
                token: token,
                body: #"{"status":"SUCCESS"}"#
            )

            let webhooks = try await Self.claim(
                harness,
                token: token,
                #"{"installationId":"agent","limit":10,"invocationMethod":"WEBHOOK","visibilityTimeoutMs":1000}"#
            )
            #expect(webhooks.map { $0["id"] } == [.string(agentRun)], "port-agent's filter: WEBHOOK runs only")
            let payload = try #require(webhooks.first?["payload"])
            #expect(payload["url"] == "http://localhost:8080/deploy")
            #expect(payload["agent"] == true)
            #expect(payload["synchronized"] == true)
            #expect(payload["body"]?["headers"]?["X-Port-Signature"]?.stringValue?.hasPrefix("v1,") == true)
            _ = try await harness.call("POST", "/_emulator/clock", body: #"{"advance":"1500ms"}"#)

            let rest = try await Self.claim(
                harness,
                token: token,
                #"{"installationId":"x","exclude":["\#(kafkaRun)"]}"#
            )
            #expect(rest.map { $0["id"] } == [.string(agentRun)], "excluded, and the finished run never")
        }
    }

    @Test("workflow node runs: claimed with their config and body, acked once, 409 the second time")
    func nodeRuns() async throws {
        try await Self.withPollingHarness { harness, token in
            let started = try await harness.call(
                "POST",
                "/_emulator/workflows/provision_environment/runs",
                body: #"{"inputs":{"name":"qa","region":"eu","ttlHours":2}}"#
            )
            #expect(started.status == 201, "\(started.json)")
            // The node run is queued as the emulator renders it, just after the start's answer.
            let claimed = Mutex<JSONValue?>(nil)
            try await waitUntil("the KAFKA node run to be claimable", within: .seconds(30)) {
                let answer = try await Self.reserved(
                    harness,
                    "POST",
                    "/v1/workflows/runs/claim-pending",
                    token: token,
                    body: #"{"installationId":"agent","limit":5}"#
                )
                claimed.withLock { $0 = answer.json["nodeRuns"]?.arrayValue?.first }
                return claimed.withLock { $0 } != nil
            }
            let nodeRun = try #require(claimed.withLock { $0 })
            let id = try #require(nodeRun["identifier"]?.stringValue)
            #expect(id.hasPrefix("wfnr_"))
            #expect(nodeRun["config"]?["type"] == "KAFKA")
            #expect(nodeRun["body"]?["context"]?["nodeRunId"] == .string(id))
            let ack = try await Self.reserved(
                harness,
                "PATCH",
                "/v1/workflows/runs/ack",
                token: token,
                body: #"{"nodeRunIdentifier":"\#(id)"}"#
            )
            #expect(ack.status == 200)
            #expect(ack.json["acked"] == true)
            let again = try await Self.reserved(
                harness,
                "PATCH",
                "/v1/workflows/runs/ack",
                token: token,
                body: #"{"nodeRunIdentifier":"\#(id)"}"#
            )
            #expect(again.status == 409)
        }
    }

    /// Bodies Port refuses: the method, the route, the body and the field the refusal names.
    static let badInputCases: [(String, String, String, String)] = [
        ("POST", "/v1/actions/runs/claim-pending", #"{"limit":1}"#, "body.installationId"),
        ("POST", "/v1/actions/runs/claim-pending", #"{"installationId":"a","limit":0}"#, "body.limit"),
        (
            "POST", "/v1/actions/runs/claim-pending", #"{"installationId":"a","visibilityTimeoutMs":600001}"#,
            "body.visibilityTimeoutMs"
        ),
        ("POST", "/v1/actions/runs/claim-pending", #"{"installationId":"a","exclude":"r_x"}"#, "body.exclude"),
        (
            "POST", "/v1/actions/runs/claim-pending", #"{"installationId":"a","invocationMethod":7}"#,
            "body.invocationMethod"
        ),
        ("POST", "/v1/actions/runs/claim-pending", #"{"installationId":"a","lease":1}"#, "body.lease"),
        ("PATCH", "/v1/actions/runs/ack", #"{}"#, "exactly one of runIds"),
        ("PATCH", "/v1/actions/runs/ack", #"{"runIds":[]}"#, "body.runIds"),
        ("PATCH", "/v1/workflows/runs/ack", #"{"nodeRunIdentifier":3}"#, "body.nodeRunIdentifier"),
        ("POST", "/v1/workflows/runs/claim-pending", #"{"installationId":""}"#, "body.installationId"),
    ]

    // One emulator for every case: a parameterized test would start one per case at once.
    @Test("bad claim and ack bodies are 422 naming the field, and claim nothing")
    func badInput() async throws {
        try await Self.withPollingHarness { harness, token in
            let runID = try await Self.trigger(harness, token: token)
            for (method, path, body, field) in Self.badInputCases {
                let answer = try await Self.reserved(harness, method, path, token: token, body: body)
                #expect(answer.status == 422, "\(path) \(body)")
                #expect(answer.json["message"]?.stringValue?.contains(field) == true, "\(answer.json)")
            }
            #expect(
                try await Self.claim(harness, token: token).map { $0["id"] } == [.string(runID)],
                "nothing was claimed"
            )
        }
    }
}
