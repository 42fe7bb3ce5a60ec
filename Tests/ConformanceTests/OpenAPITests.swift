import ChildProcesses
import Conformance
import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

@Suite("The emulator's OpenAPI document at /openapi.json", .heavy, .timeLimit(.minutes(10)))
struct OpenAPITests {
    /// `GET /v1/actions/runs/{run_id}` and `GET /v1/actions/runs/:id` both become `GET /v1/actions/runs/{}`.
    static func shape(_ method: String, _ path: String) -> String {
        let segments = path.split(separator: "/").map { segment in
            segment.hasPrefix(":") || segment.hasPrefix("{") ? "{}" : String(segment)
        }
        return method.uppercased() + " /" + segments.joined(separator: "/")
    }

    @Test("it describes exactly the Port API routes the emulator serves")
    func describesExactlyTheServedRoutes() async throws {
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        try await PortEmulator.withRunning(configuration: configuration, logger: quietLogger) { emulator in
            let client = try EmulatorClient(url: emulator.info.apiBaseURL)
            let document = try await client.send("GET", "/openapi.json")
            #expect(document["openapi"]?.stringValue?.hasPrefix("3.") == true)
            var documented: Set<String> = []
            for (path, item) in document["paths"]?.objectValue ?? [:] {
                for (method, _) in item.objectValue ?? [:] { documented.insert(Self.shape(method, path)) }
            }
            let routes = try await client.send("GET", "/_emulator/routes")["routes"]?.arrayValue ?? []
            let served = Set(
                routes.compactMap { route -> String? in
                    guard let path = route["path"]?.stringValue, path.hasPrefix("/v1/"),
                        let method = route["method"]?.stringValue
                    else { return nil }
                    return Self.shape(method, path)
                }
            )
            #expect(documented.count >= 26)
            #expect(documented.subtracting(served).isEmpty, "documented, not served: \(documented.subtracting(served))")
            #expect(served.subtracting(documented).isEmpty, "served, not documented: \(served.subtracting(documented))")
        }
    }

    @Test("the document served is the committed openapi.json, which OpenAPIDocument.swift is generated from")
    func servedDocumentIsTheCommittedOne() async throws {
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        let served = try await PortEmulator.withRunning(configuration: configuration, logger: quietLogger) { emulator in
            try await EmulatorClient(url: emulator.info.apiBaseURL).send("GET", "/openapi.json")
        }
        let file = Repository.root.appendingPathComponent("Sources/Emulator/Dashboard/openapi.json")
        let committed = try JSONValue.parse(Array(try Data(contentsOf: file)))
        #expect(served == committed, "run scripts/make-openapi.py --embed after editing openapi.json")
    }

    /// Runs `body` with an emulator with the fixtures, one run of `create_vm` in progress, one
    /// finished and one entity: real identifiers for the fuzzer and for the response checks.
    /// The emulator stops however `body` ends.
    static func withData<Value: Sendable>(
        _ body:
            @escaping @Sendable (PortEmulator, EmulatorClient, _ running: String, _ finished: String) async throws
            -> Value
    ) async throws -> Value {
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        configuration.fixtures = try Fixtures.load(from: Repository.fixtures)
        return try await PortEmulator.withRunning(configuration: configuration, logger: quietLogger) { emulator in
            let client = try EmulatorClient(url: emulator.info.apiBaseURL)
            let token = try await client.accessToken()
            let inputs: JSONObject = ["name": "fuzz-vm", "cpu": 2]
            let running = try #require(try await client.trigger(action: "create_vm", inputs: inputs)["id"]?.stringValue)
            let finished = try #require(
                try await client.trigger(action: "create_vm", inputs: inputs)["id"]?.stringValue
            )
            _ = try await client.send(
                "PATCH",
                "/v1/actions/runs/\(finished)",
                body: ["status": "SUCCESS", "summary": "done"],
                token: token
            )
            _ = try await client.send(
                "POST",
                "/v1/blueprints/service/entities",
                body: ["identifier": "fuzz-service", "title": "Fuzz", "properties": [:]],
                token: token
            )
            // What the destructive operations (bulk delete, delete all, delete blueprint) aim at.
            _ = try await client.send(
                "POST",
                "/v1/blueprints",
                body: ["identifier": "fuzz_scratch", "title": "Scratch", "schema": ["properties": [:]]],
                token: token
            )
            _ = try await client.send(
                "POST",
                "/v1/actions",
                body: [
                    "identifier": "fuzz_scratch_action", "title": "Scratch",
                    "trigger": ["type": "self-service", "operation": "CREATE", "userInputs": ["properties": [:]]],
                    "invocationMethod": ["type": "KAFKA"],
                ],
                token: token
            )
            return try await body(emulator, client, running, finished)
        }
    }

    @Test("live run bodies, in both of Port's shapes, follow the document's response schemas")
    func liveRunsFollowTheDocument() async throws {
        try await Self.withData { emulator, client, running, finished in
            let document = try await client.send("GET", "/openapi.json")
            let token = try await client.accessToken()
            let paths = try #require(document["paths"])
            func schema(_ method: String, _ path: String, _ status: String) throws -> JSONSchema {
                let json = paths[path]?[method]?["responses"]?[status]?["content"]?["application/json"]?["schema"]
                return JSONSchema(try #require(json, "\(method) \(path) \(status)"), document: document)
            }
            let run = try schema("get", "/v1/actions/runs/{run_id}", "200")
            let list = try schema("get", "/v1/actions/runs", "200")
            for id in [running, finished] {
                for query in ["", "?version=v1", "?version=v2"] {
                    let body = try await client.send("GET", "/v1/actions/runs/\(id)\(query)", token: token)
                    #expect(run.violations(of: body).isEmpty, "\(id)\(query): \(run.violations(of: body))")
                    // Each shape is what its query asks for: v1 names the action, v2 describes it.
                    #expect((body["run"]?["action"]?.stringValue != nil) == (query != "?version=v2"))
                }
            }
            for query in ["", "?version=v2"] {
                let body = try await client.send("GET", "/v1/actions/runs\(query)", token: token)
                #expect(body["runs"]?.arrayValue?.count == 2)
                #expect(list.violations(of: body).isEmpty, "\(query): \(list.violations(of: body))")
            }
            let entity = try schema("get", "/v1/blueprints/{blueprint_identifier}/entities/{entity_identifier}", "200")
            let body = try await client.send("GET", "/v1/blueprints/service/entities/fuzz-service", token: token)
            #expect(entity.violations(of: body).isEmpty, "\(entity.violations(of: body))")
            // The checker is not blind: a v1 run with an object action breaks it.
            let current = try await client.send("GET", "/v1/actions/runs/\(running)", token: token)
            var object = try #require(current["run"]?.objectValue)
            object["action"] = 5
            let broken: JSONValue = ["ok": true, "run": .object(object)]
            #expect(!run.violations(of: broken).isEmpty)
        }
    }

    @Test("schemathesis fuzzes every operation: no 5xx, and every response matches the document")
    func fuzzingFindsNoMismatch() async throws {
        try await Self.withData { emulator, client, running, _ in
            let base = emulator.info.apiBaseURL
            let token = try await client.accessToken()
            let directory = try Repository.temporaryDirectory()
            // Real identifiers, so that the run and entity routes answer more than 404.
            let configuration = directory + "/schemathesis.toml"
            try """
            [parameters]
            action_identifier = "create_vm"
            blueprint_identifier = "service"
            entity_identifier = "fuzz-service"
            run_id = "\(running)"
            identifier = "fuzz_scratch"

            [[operations]]
            include-path-regex = "/(all-entities|bulk/entities/delete|rename)$"
            parameters = { blueprint_identifier = "fuzz_scratch" }

            [[operations]]
            include-name-regex = '^(PUT|DELETE) /v1/actions/[{]action_identifier[}]$'
            parameters = { action_identifier = "fuzz_scratch_action" }
            """.write(toFile: configuration, atomically: true, encoding: .utf8)
            let output = directory + "/schemathesis.log"
            let child = try ChildProcess.spawn(
                [
                    "schemathesis", "--config-file", configuration, "run", base + "/openapi.json", "--url", base,
                    "-H", "Authorization: Bearer \(token)",
                    "--checks", "not_a_server_error,response_schema_conformance",
                    // Five examples per operation and five stateful scenarios (about 6 s): the suite
                    // runs this beside timing-sensitive tests on two cores. `make fuzz` runs it all.
                    "--phases", "examples,fuzzing,stateful", "--max-examples", "5", "--no-color",
                ],
                environment: ProcessInfo.processInfo.environment,
                outputPath: output
            )
            let termination = try await withDeadline(.seconds(150), "schemathesis") { await child.wait() }
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            #expect(!termination.bySignal && termination.status == 0, "\(text.suffix(3000))")
            #expect(text.contains("Tested: 91"), "not every operation was fuzzed:\n\(text.suffix(1500))")
            #expect(!text.contains("FAILURES"), "\(text.suffix(3000))")
        }
    }

    @Test("a blueprint Port's schema refuses is refused 422, naming the field; a valid one is created")
    func blueprintBodiesFollowPortsSchema() async throws {
        try await Self.withData { _, client, _, _ in
            let token = try await client.accessToken()
            let schema: JSONValue = ["properties": [:], "required": []]
            let refused: [(JSONValue, String)] = [
                (
                    ["identifier": .string(String(repeating: "a", count: 101)), "title": "T", "schema": schema],
                    "body.identifier: expected at most 100 character(s), got 101"
                ),
                (
                    ["identifier": "has space", "title": "T", "schema": schema],
                    "body.identifier: \"has space\" does not match"
                ),
                (
                    ["identifier": "bp", "title": "T", "schema": schema, "changelogDestination": ["type": "FTP"]],
                    "body.changelogDestination"
                ),
                (
                    ["identifier": "bp", "title": "T", "schema": schema, "icon": 5],
                    "body.icon: expected string, got integer"
                ),
                (["identifier": "bp", "schema": schema], #"body: missing required property "title""#),
            ]
            for (body, message) in refused {
                let answer = try await client.call("POST", "/v1/blueprints", body: body, token: token)
                #expect(answer.status == 422, "\(body.compactText)")
                #expect(answer.json?["error"] == "invalid_request")
                let text = answer.json?["message"]?.stringValue ?? ""
                #expect(text.contains(message), "\(text)")
            }
            let valid: JSONValue = [
                "identifier": "queue", "title": "Queue", "icon": "Kafka", "schema": schema,
                "changelogDestination": ["type": "KAFKA"],
            ]
            let created = try await client.call("POST", "/v1/blueprints", body: valid, token: token)
            #expect(created.status == 201)
            #expect(created.json?["blueprint"]?["identifier"] == "queue")
        }
    }
}
