import ChildProcesses
import Emulator
import Foundation
import PortContract
import PortKafka
import TestSupport
import Testing

/// A v2 action whose payload template covers every rule of contract §5: a scalar, an
/// object, mixed text, a key that renders to null, `spreadValue()` and `.secrets`.
let templatedAction = #"""
    {"identifier":"scale_service","title":"Scale service",
     "trigger":{"type":"self-service","operation":"DAY-2","blueprintIdentifier":"service",
       "userInputs":{"properties":{"replicas":{"type":"number"},"reason":{"type":"string"}},"required":["replicas"]}},
     "invocationMethod":{"type":"KAFKA","payload":{
       "runId":"{{ .run.id }}",
       "replicas":"{{ .inputs.replicas }}",
       "inputs":"{{ .inputs }}",
       "message":"Scale {{ .entity.identifier }} to {{ .inputs.replicas }} ({{ .inputs }})",
       "{{ if .inputs.reason then \"reason\" else null end }}":"{{ .inputs.reason }}",
       "{{ spreadValue() }}":"{{ {operation: .trigger.operation, user: .trigger.by.user.email} }}",
       "token":"{{ .secrets.DEPLOY_TOKEN }}",
       "fixed":[1,"two",{"three":3}]}}}
    """#

@Suite("Invocations on Kafka", .heavy, .timeLimit(.minutes(10)))
struct InvocationTests {
    @Test("the legacy message of a DAY-2 run: key, topic and every field of contract §5")
    func legacyMessage() async throws {
        try await EmulatorHarness.run { harness in
            let reader = try harness.runsReader()
            let token = try await harness.token()
            _ = try await harness.call(
                "POST",
                "/v1/blueprints/service/entities",
                token: token,
                body: #"{"identifier":"api","title":"API","properties":{"version":"1.0","environment":"staging"}}"#
            )
            let created = try await harness.call(
                "POST",
                "/v1/actions/deploy_service/runs?run_as=dev@example.com",
                token: token,
                body: #"{"properties":{"version":"2.0","environment":"production"},"entity":"api"}"#
            )
            let runID = try #require(created.json["run"]?["id"]?.stringValue)
            let raw = try await reader.message(key: runID)
            #expect(raw.topic == "org_api.runs")
            let message = try JSONValue.parse(raw.value ?? [])
            #expect(message.objectValue?.keys == ["action", "resourceType", "status", "trigger", "context", "payload"])
            #expect(message["action"] == "deploy_service")
            #expect(message["resourceType"] == "run")
            #expect(message["status"] == "TRIGGERED")
            #expect(message["trigger"]?["by"]?["orgId"] == "org_api")
            #expect(message["trigger"]?["by"]?["user"]?["email"] == "dev@example.com")
            #expect(message["trigger"]?["origin"] == "API")
            #expect(message["trigger"]?["at"] == created.json["run"]?["createdAt"])
            #expect(message["context"] == ["entity": "api", "blueprint": "service", "runId": .string(runID)])
            let payload = try #require(message["payload"])
            #expect(payload["entity"]?["identifier"] == "api")
            #expect(payload["entity"]?["title"] == "API")
            #expect(payload["entity"]?["icon"] == .null)
            #expect(payload["entity"]?["properties"] == ["version": "1.0", "environment": "staging"])
            #expect(payload["action"]?["identifier"] == "deploy_service")
            #expect(payload["action"]?["id"]?.stringValue?.hasPrefix("action_") == true)
            #expect(payload["action"]?["invocationMethod"] == ["type": "KAFKA"])
            #expect(payload["action"]?["trigger"]?["operation"] == "DAY-2")
            #expect(
                payload["properties"] == ["version": "2.0", "environment": "production", "region": "us-east-1"],
                "inputs with the action's defaults filled in"
            )
            #expect(payload["censoredProperties"] == [])
            await reader.close()
        }
    }

    @Test("a templated action's message is its rendered payload: scalar, object, text, null key, spread, secret")
    func templatedMessage() async throws {
        let configure: (inout EmulatorConfiguration) -> Void = { $0.secrets = ["DEPLOY_TOKEN": "s3cr3t"] }
        try await EmulatorHarness.run(configure: configure) { harness in
            let reader = try harness.runsReader()
            let token = try await harness.token()
            #expect(try await harness.call("POST", "/v1/actions", token: token, body: templatedAction).status == 201)
            _ = try await harness.call(
                "POST",
                "/v1/blueprints/service/entities",
                token: token,
                body: #"{"identifier":"api"}"#
            )
            var messages: [String: JSONValue] = [:]
            for inputs in [#"{"replicas":3}"#, #"{"replicas":5,"reason":"peak"}"#] {
                let created = try await harness.call(
                    "POST",
                    "/v1/actions/scale_service/runs?run_as=ops@example.com",
                    token: token,
                    body: #"{"properties":\#(inputs),"entity":"api"}"#
                )
                let runID = try #require(created.json["run"]?["id"]?.stringValue)
                messages[inputs] = try await reader.json(key: runID)
            }
            let plain = try #require(messages[#"{"replicas":3}"#])
            #expect(plain["runId"]?.stringValue?.hasPrefix("r_") == true)
            #expect(plain["replicas"] == 3)
            #expect(plain["inputs"] == ["replicas": 3])
            #expect(plain["message"] == #"Scale api to 3 ({"replicas":3})"#)
            #expect(plain["reason"] == nil, "a key that renders to null drops its pair")
            #expect(plain["operation"] == "DAY-2")
            #expect(plain["user"] == "ops@example.com")
            #expect(plain["token"] == "s3cr3t")
            #expect(plain["fixed"] == [1, "two", ["three": 3]])
            #expect(
                plain.objectValue?.keys == [
                    "runId", "replicas", "inputs", "message", "operation", "user", "token", "fixed",
                ]
            )
            let withReason = try #require(messages[#"{"replicas":5,"reason":"peak"}"#])
            #expect(withReason["reason"] == "peak")
            await reader.close()
        }
    }

    @Test("a template jq cannot compile or run ends the run as FAILURE with jq's error in a log")
    func badTemplate() async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            for (name, expression) in [("does_not_compile", ".inputs | nope("), ("fails_at_run", ".inputs.n | error")] {
                let action = #"""
                    {"identifier":"\#(name)","trigger":{"type":"self-service","operation":"CREATE",
                     "userInputs":{"properties":{"n":{"type":"string"}}}},
                     "invocationMethod":{"type":"KAFKA","payload":{"x":"{{ \#(expression) }}"}}}
                    """#
                #expect(try await harness.call("POST", "/v1/actions", token: token, body: action).status == 201)
                let created = try await harness.call(
                    "POST",
                    "/v1/actions/\(name)/runs",
                    token: token,
                    body: #"{"properties":{"n":"boom"}}"#
                )
                let runID = try #require(created.json["run"]?["id"]?.stringValue)
                try await waitUntil("run \(runID) to fail") { try harness.emulator.runs.run(runID).status == .failure }
                let log = try #require(try harness.emulator.runs.logs(runID).last)
                #expect(log.message.contains("could not render the invocation"))
                #expect(log.message.contains("jq"))
                #expect(log.message.contains(expression))
            }
        }
    }

    @Test("a message for Port's agent is signed as port-agent verifies it (checked in Python)")
    func signedMessage() async throws {
        try await EmulatorHarness.run { harness in
            let reader = try harness.runsReader()
            let token = try await harness.token()
            let action = #"""
                {"identifier":"agent_webhook","title":"Webhook through the agent — ünïcode",
                 "trigger":{"type":"self-service","operation":"CREATE","userInputs":{"properties":{"name":{"type":"string"}}}},
                 "invocationMethod":{"type":"WEBHOOK","agent":true,"url":"http://localhost:9/hook","synchronized":false}}
                """#
            #expect(try await harness.call("POST", "/v1/actions", token: token, body: action).status == 201)
            let created = try await harness.call(
                "POST",
                "/v1/actions/agent_webhook/runs",
                token: token,
                body: #"{"properties":{"name":"café ☕"}}"#
            )
            let runID = try #require(created.json["run"]?["id"]?.stringValue)
            let raw = try await reader.message(key: runID)
            let message = try JSONValue.parse(raw.value ?? [])
            let headers = try #require(message["headers"])
            #expect(headers["X-Port-Signature"]?.stringValue?.hasPrefix("v1,") == true)
            let timestamp = try #require(headers["X-Port-Timestamp"]?.stringValue.flatMap(Double.init))
            #expect(abs(timestamp - Date().timeIntervalSince1970) < 60)
            #expect(
                try await PythonCheck.portAgentAcceptsSignature(
                    raw.value ?? [],
                    secret: EmulatorConfiguration.defaultClientSecret
                )
            )
            #expect(try await !PythonCheck.portAgentAcceptsSignature(raw.value ?? [], secret: "another-secret"))
            #expect(
                PortSignature.isValid(
                    try #require(message.objectValue),
                    secret: EmulatorConfiguration.defaultClientSecret
                )
            )
            await reader.close()
        }
    }

    @Test("each run's message arrives only after GET of that run already answers")
    func noRaceWithTheRunStore() async throws {
        try await EmulatorHarness.run { harness in
            let reader = try harness.runsReader()
            let token = try await harness.token()
            let runIDs = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<40 {
                    group.addTask {
                        try await harness.createRun(#"{"action":"create_vm","properties":{"n":\#(index)}}"#)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for runID in runIDs {
                _ = try await reader.message(key: runID)
                let fetched = try await harness.call("GET", "/v1/actions/runs/\(runID)", token: token)
                #expect(fetched.status == 200)
            }
            #expect(Set(reader.messages.compactMap(\.keyString)).isSuperset(of: runIDs))
            await reader.close()
        }
    }

    @Test("a run waiting for approval is published once approved, never before")
    func publishedOnApproval() async throws {
        try await EmulatorHarness.run { harness in
            let reader = try harness.runsReader()
            let token = try await harness.token()
            let waiting = try await harness.createRun(#"{"action":"create_vm","requiredApproval":true}"#)
            let marker = try await harness.createRun(#"{"action":"create_vm"}"#)
            _ = try await reader.message(key: marker)
            #expect(reader.messages.allSatisfy { $0.keyString != waiting })
            let approved = try await harness.call(
                "PATCH",
                "/v1/actions/runs/\(waiting)/approval",
                token: token,
                body: #"{"status":"APPROVE"}"#
            )
            #expect(approved.status == 201)
            #expect(try await reader.json(key: waiting)["context"]?["runId"] == .string(waiting))
            await reader.close()
        }
    }

    @Test("an entity written with run_id on a change-logged blueprint is published to the change log")
    func changeLog() async throws {
        try await EmulatorHarness.run { harness in
            let reader = try harness.changeLogReader()
            let token = try await harness.token()
            let runID = try await harness.createRun(#"{"action":"create_vm","properties":{"name":"vm-1","cpu":2}}"#)
            let path = "/v1/blueprints/vm/entities"
            _ = try await harness.call(
                "POST",
                path + "?run_id=\(runID)",
                token: token,
                body: #"{"identifier":"vm-1","properties":{"cpu":2,"region":"eu-west-1"}}"#
            )
            _ = try await harness.call(
                "PATCH",
                path + "/vm-1?run_id=\(runID)",
                token: token,
                body: #"{"properties":{"cpu":4}}"#
            )
            _ = try await harness.call("DELETE", path + "/vm-1", token: token)
            try await waitUntil("three change-log messages") { reader.messages.count >= 3 }
            let changes = try reader.messages.map { try JSONValue.parse($0.value ?? []) }
            #expect(reader.messages.allSatisfy { $0.topic == "org_api.change.log" && $0.keyString == "vm-1" })
            #expect(changes.map { $0["action"] } == ["CREATE", "UPDATE", "DELETE"])
            #expect(changes.map { $0["context"]?["runId"] } == [.string(runID), .string(runID), .null])
            #expect(changes[0]["resourceType"] == "entity")
            #expect(changes[0]["status"] == "SUCCESS")
            #expect(changes[0]["context"]?["blueprint"] == "vm")
            #expect(changes[0]["diff"]?["before"] == .null)
            #expect(changes[0]["diff"]?["after"]?["properties"] == ["cpu": 2, "region": "eu-west-1"])
            #expect(changes[1]["diff"]?["before"]?["properties"]?["cpu"] == 2)
            #expect(changes[1]["diff"]?["after"]?["properties"]?["cpu"] == 4)
            #expect(changes[2]["diff"]?["after"] == .null)
            await reader.close()
        }
    }
}

/// Independent checks written in Python, the language of Port's own agent.
enum PythonCheck {
    /// Runs port-agent's signature check (`validate_incoming_signature`) on a message.
    static func portAgentAcceptsSignature(_ message: [UInt8], secret: String) async throws -> Bool {
        let script = """
            import base64, hashlib, hmac, json, sys
            msg = json.loads(sys.stdin.buffer.read().decode())
            signature = msg["headers"]["X-Port-Signature"]
            timestamp = msg["headers"]["X-Port-Timestamp"]
            del msg["headers"]["X-Port-Signature"]
            del msg["headers"]["X-Port-Timestamp"]
            data = f"{timestamp}.{json.dumps(msg, separators=(',', ':'), ensure_ascii=False)}"
            digest = hmac.new(bytes(sys.argv[1], "utf-8"), bytes(data, "utf-8"), hashlib.sha256).digest()
            print("valid" if "v1," + base64.b64encode(digest).decode() == signature else "invalid")
            """
        let (_, answer, _) = try await ChildProcess.run(
            ["python3", "-c", script, secret],
            environment: ProcessInfo.processInfo.environment,
            input: message
        )
        return answer.trimmingCharacters(in: .whitespacesAndNewlines) == "valid"
    }
}

@Suite("Raw invocations and publish failures", .heavy, .timeLimit(.minutes(10)))
struct RawInvocationTests {
    @Test(
        "a seed message is published as it is, keyed by its run id, and its run accepts reports",
        arguments: ["create_microservice", "deploy_microservice_wrapped", "deploy_service_poc"]
    )
    func seedMessage(name: String) async throws {
        try await EmulatorHarness.run { harness in
            let reader = try harness.runsReader()
            let token = try await harness.token()
            let fixture = try JSONValue.parse(
                try Data(
                    contentsOf: URL(fileURLWithPath: "\(EmulatorHarness.fixturesDirectory)/invocations/\(name).json")
                )
            )
            let published = try await harness.call("POST", "/_emulator/invocations/\(name)")
            #expect(published.status == 201, "\(published.json.compactText)")
            let runID = try #require(published.json["run"]?["id"]?.stringValue)
            let message = try await reader.message(key: runID)
            #expect(message.value == fixture.compactBytes, "the fixture's JSON, byte for byte in compact form")
            let reported = try await harness.call(
                "PATCH",
                "/v1/actions/runs/\(runID)",
                token: token,
                body: #"{"status":"SUCCESS"}"#
            )
            #expect(reported.status == 200)
            let again = try await harness.call("POST", "/_emulator/invocations/\(name)")
            #expect(again.status == 409, "its run id is taken until a reset")
            #expect(try await harness.call("POST", "/_emulator/invocations/nope").status == 404)
            await reader.close()
        }
    }

    @Test("a publish that Kafka does not take ends the run as FAILURE with a log that says why")
    func publishFailure() async throws {
        let external = try EmbeddedKafkaCluster.start(logger: quietLogger)
        for topic in ["org_api.runs", "org_api.change.log"] { try external.createTopic(topic, partitions: 1) }
        let configure: (inout EmulatorConfiguration) -> Void = { configuration in
            configuration.externalKafka = ExternalKafka(bootstrapServers: [external.bootstrapServers])
            configuration.publishTimeout = .seconds(1)
        }
        try await EmulatorHarness.run(configure: configure) { harness in
            try external.setBrokerDown(1)
            let runID = try await harness.createRun(#"{"action":"create_vm","properties":{"name":"vm-1"}}"#)
            try await waitUntil("the run to fail", within: .seconds(15)) {
                try harness.emulator.runs.run(runID).status == .failure
            }
            let log = try #require(try harness.emulator.runs.logs(runID).last)
            #expect(log.message.contains("could not publish the invocation to org_api.runs"))
            #expect(log.createdBy == "port-emulator")
            try external.setBrokerUp(1)
        }
        await external.stop()
    }
}
