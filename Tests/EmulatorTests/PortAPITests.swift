import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

/// A running emulator on a free port and a small JSON client for it.
struct EmulatorHarness {
    let emulator: PortEmulator
    let port: Int

    /// The repository's `fixtures/` directory.
    static let fixturesDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures").path

    /// Starts an emulator, runs `body` with it, and stops it however `body` ends; returns
    /// `body`'s value once the emulator has stopped.
    static func run<Value: Sendable>(
        tokenTTL: Duration = .seconds(10_800),
        configure: (inout EmulatorConfiguration) -> Void = { _ in },
        _ body: @escaping @Sendable (EmulatorHarness) async throws -> Value
    ) async throws -> Value {
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        configuration.orgID = "org_api"
        configuration.tokenTTL = tokenTTL
        configuration.fixtures = try Fixtures.load(from: fixturesDirectory)
        configure(&configuration)
        return try await PortEmulator.withRunning(configuration: configuration, logger: quietLogger) { emulator in
            let port = Int(emulator.info.apiBaseURL.split(separator: ":").last ?? "") ?? 0
            return try await body(EmulatorHarness(emulator: emulator, port: port))
        }
    }

    /// Sends one request to the emulator (see `JSONTestClient.call`).
    func call(
        _ method: String,
        _ path: String,
        token: String? = nil,
        body: String? = nil
    ) async throws -> (status: Int, json: JSONValue, headers: [String: String]) {
        try await JSONTestClient(port: port).call(method, path, token: token, body: body)
    }

    /// A token for the emulator's default credentials.
    func token() async throws -> String {
        try await JSONTestClient(port: port).token(
            clientID: "emulator-client-id",
            clientSecret: EmulatorConfiguration.defaultClientSecret
        )
    }

    func createRun(
        _ body: String = #"{"action":"deploy_service","properties":{"service":"api"}}"#
    ) async throws -> String {
        let response = try await call("POST", "/_emulator/runs", body: body)
        #expect(response.status == 201)
        return try #require(response.json["run"]?["id"]?.stringValue)
    }
}

@Suite("Port API emulation over HTTP", .heavy, .timeLimit(.minutes(10)))
struct PortAPITests {
    @Test(
        "a synchronized webhook run refuses a manual status; an agent's synchronized run takes port-agent's response, then its status"
    )
    func synchronizedRuns() async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            func define(_ identifier: String, agent: Bool) async throws {
                let action = #"""
                    {"identifier":"\#(identifier)","title":"\#(identifier)","trigger":{"type":"self-service","operation":"CREATE",
                     "userInputs":{"properties":{}}},
                     "invocationMethod":{"type":"WEBHOOK","url":"https://hooks.example.com/x","agent":\#(agent),"synchronized":true}}
                    """#
                #expect(try await harness.call("POST", "/v1/actions", token: token, body: action).status == 201)
            }
            func trigger(_ identifier: String) async throws -> String {
                let created = try await harness.call(
                    "POST",
                    "/v1/actions/\(identifier)/runs",
                    token: token,
                    body: #"{"properties":{}}"#
                )
                #expect(created.status == 202)
                return try #require(created.json["run"]?["id"]?.stringValue)
            }
            try await define("sync_webhook", agent: false)
            try await define("sync_agent", agent: true)

            let byPort = try await trigger("sync_webhook")
            let refused = try await harness.call(
                "PATCH",
                "/v1/actions/runs/\(byPort)",
                token: token,
                body: #"{"status":"SUCCESS"}"#
            )
            #expect(refused.status == 422)
            #expect(refused.json["error"] == "run_synchronized_error")

            // port-agent: PATCH …/response with the webhook's answer, then the status.
            let byAgent = try await trigger("sync_agent")
            let response = try await harness.call(
                "PATCH",
                "/v1/actions/runs/\(byAgent)/response",
                token: token,
                body: #"{"response":{"deployed":true}}"#
            )
            #expect(response.status == 200)
            let ended = try await harness.call(
                "PATCH",
                "/v1/actions/runs/\(byAgent)",
                token: token,
                body: #"{"status":"SUCCESS"}"#
            )
            #expect(ended.status == 200, "\(ended.json)")
            #expect(ended.json["run"]?["status"] == "SUCCESS")
            let stored = try await harness.call("GET", "/v1/actions/runs/\(byAgent)?version=v2", token: token)
            #expect(stored.json["run"]?["response"]?["deployed"] == true, "\(stored.json)")
        }
    }

    @Test("GET and PATCH /v1/organization: port-agent's streamer setting without a name is stored and shown")
    func organization() async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            #expect(try await harness.call("GET", "/v1/organization").status == 401)
            let initial = try await harness.call("GET", "/v1/organization", token: token)
            #expect(initial.status == 200)
            #expect(initial.json["organization"]?["id"] == "org_api")
            #expect(initial.json["organization"]?["settings"] == .object([:]))
            #expect(initial.json["organization"]?["featureFlags"] == .array([]))

            // What port-agent sends at start-up (app/port_client.py): settings only, no name.
            let agent = try await harness.call(
                "PATCH",
                "/v1/organization",
                token: token,
                body: #"{"settings":{"portAgentStreamerName":"KAFKA"}}"#
            )
            #expect(agent.status == 200)
            #expect(agent.json == ["ok": true])
            let renamed = try await harness.call(
                "PATCH",
                "/v1/organization",
                token: token,
                body: #"{"name":"Acme","settings":{"portalTitle":"Acme portal"}}"#
            )
            #expect(renamed.status == 200)
            let shown = try await harness.call("GET", "/v1/organization", token: token)
            #expect(shown.json["organization"]?["name"] == "Acme")
            #expect(shown.json["organization"]?["settings"]?["portAgentStreamerName"] == "KAFKA", "settings merge")
            #expect(shown.json["organization"]?["settings"]?["portalTitle"] == "Acme portal")

            for body in [#"{"settings":{"portAgentStreamerName":"CARRIER_PIGEON"}}"#, #"{"owner":"me"}"#, "[]"] {
                let refused = try await harness.call("PATCH", "/v1/organization", token: token, body: body)
                #expect(refused.status == 422, "\(body)")
                #expect(refused.json["error"] == "invalid_request", "\(body)")
            }
            #expect(try await harness.call("POST", "/_emulator/reset").status == 200)
            let reset = try await harness.call("GET", "/v1/organization", token: token)
            #expect(reset.json["organization"]?["name"] == "org_api")
            #expect(reset.json["organization"]?["settings"] == .object([:]))
        }
    }

    @Test("a token is issued, reused until it expires, and required on every route")
    func tokens() async throws {
        try await EmulatorHarness.run { harness in
            let grant = try await harness.call(
                "POST",
                "/v1/auth/access_token",
                body:
                    #"{"clientId":"emulator-client-id","clientSecret":"\#(EmulatorConfiguration.defaultClientSecret)"}"#
            )
            #expect(grant.status == 200)
            #expect(grant.json["ok"] == true)
            #expect(grant.json["tokenType"] == "Bearer")
            #expect(grant.json["expiresIn"]?.intValue == 10_800)
            let token = try #require(grant.json["accessToken"]?.stringValue)
            let parts = token.split(separator: ".").map(String.init)
            #expect(parts.count == 3)
            // A machine's token, as Port issues for client credentials (Ocean checks isMachine).
            var payload = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            payload += String(repeating: "=", count: (4 - payload.count % 4) % 4)
            let claims = try JSONValue.parse(Array(try #require(Data(base64Encoded: payload))))
            #expect(claims["isMachine"] == true)
            #expect(claims["personalToken"] == false)
            #expect(claims["clientId"] == "emulator-client-id")
            #expect(try await harness.token() == token)

            let runID = try await harness.createRun()
            for (token, message) in [(nil, "Bearer token is required"), ("not-a-token", "token is invalid")] {
                let refused = try await harness.call("GET", "/v1/actions/runs/\(runID)", token: token)
                #expect(refused.status == 401)
                #expect(refused.json["error"] == "unauthorized")
                #expect(refused.json["message"]?.stringValue?.contains(message) == true)
            }
            let wrongSecret = try await harness.call(
                "POST",
                "/v1/auth/access_token",
                body: #"{"clientId":"emulator-client-id","clientSecret":"nope"}"#
            )
            #expect(wrongSecret.status == 401)
            let extraField = try await harness.call(
                "POST",
                "/v1/auth/access_token",
                body: #"{"clientId":"a","clientSecret":"b","scope":"all"}"#
            )
            #expect(extraField.status == 422)
            #expect(extraField.json["error"] == "invalid_request")
        }
    }

    @Test("an expired token is 401 'token is expired' and a new one is issued")
    func expiredToken() async throws {
        // Two seconds: long enough that the fresh token is still valid for its one call on a
        // loaded machine.
        try await EmulatorHarness.run(tokenTTL: .seconds(2)) { harness in
            let token = try await harness.token()
            let runID = try await harness.createRun()
            try await waitUntil("the token to expire", within: .seconds(8)) {
                try await harness.call("GET", "/v1/actions/runs/\(runID)", token: token).status == 401
            }
            let expired = try await harness.call("GET", "/v1/actions/runs/\(runID)", token: token)
            #expect(expired.json["message"] == "token is expired")
            // A new token is issued and works. On a loaded machine even it may expire before its
            // first call: ask again until one is used within its life, never bounding the time.
            try await waitUntil("a fresh token to be accepted", within: .seconds(30)) {
                let fresh = try await harness.token()
                #expect(fresh != token)
                return try await harness.call("GET", "/v1/actions/runs/\(runID)", token: fresh).status == 200
            }
        }
    }

    @Test("a consumer's reports: logs, label, links, termination, then the run is locked")
    func runLifecycle() async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            let runID = try await harness.createRun()

            let log = try await harness.call(
                "POST",
                "/v1/actions/runs/\(runID)/logs",
                token: token,
                body: #"{"message":"starting"}"#
            )
            #expect(log.status == 201)
            #expect(log.json["runLog"]?["runId"]?.stringValue == runID)
            #expect(log.json["runLog"]?["createdBy"] == "emulator-client-id")
            #expect(log.headers["x-trace-id"]?.count == 32)

            let patched = try await harness.call(
                "PATCH",
                "/v1/actions/runs/\(runID)?version=v2",
                token: token,
                body: #"{"statusLabel":"deploying","link":["https://ci/1","https://ci/2"]}"#
            )
            #expect(patched.status == 200)
            #expect(patched.json["run"]?["status"] == "IN_PROGRESS")
            #expect(patched.json["run"]?["link"] == ["https://ci/1", "https://ci/2"])
            #expect(patched.json["run"]?["action"]?["identifier"] == "deploy_service")

            let finished = try await harness.call(
                "POST",
                "/v1/actions/runs/\(runID)/logs",
                token: token,
                body: #"{"message":"done","terminationStatus":"SUCCESS"}"#
            )
            #expect(finished.status == 201)
            let run = try await harness.call("GET", "/v1/actions/runs/\(runID)", token: token)
            #expect(run.json["run"]?["status"] == "SUCCESS")
            #expect(run.json["run"]?["action"] == "deploy_service")
            #expect(run.json["run"]?["endedAt"]?.stringValue?.hasSuffix("Z") == true)

            let late = try await harness.call(
                "PATCH",
                "/v1/actions/runs/\(runID)",
                token: token,
                body: #"{"status":"FAILURE"}"#
            )
            #expect(late.status == 422)
            #expect(late.json["error"] == "run_exhausted")
            #expect(late.json["message"] == "Action run already finished execution")

            let logs = try await harness.call("GET", "/v1/actions/runs/\(runID)/logs?limit=1&offset=1", token: token)
            #expect(logs.json["runLogs"]?.arrayValue?.map { $0["message"] } == ["done"])
        }
    }

    @Test("bad input gets the right 4xx and envelope, and the server keeps serving")
    func badInput() async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            let runID = try await harness.createRun()
            let cases: [(String, String, String?, Int, String)] = [
                ("PATCH", "/v1/actions/runs/\(runID)", #"{"status": "SUCC"#, 400, "bad_request"),
                ("PATCH", "/v1/actions/runs/\(runID)", #"{"status":"IN_PROGRESS"}"#, 422, "invalid_request"),
                ("PATCH", "/v1/actions/runs/\(runID)", #"{"statusLabel":false}"#, 422, "invalid_request"),
                ("POST", "/v1/actions/runs/\(runID)/logs", #"{"message":"m","extra":1}"#, 422, "invalid_request"),
                ("GET", "/v1/actions/runs/r_unknown000000000", nil, 404, "not_found"),
                ("GET", "/v1/actions/runs/\(runID)?version=v3", nil, 422, "invalid_request"),
                ("GET", "/v1/actions/runs/\(runID)/logs?limit=51", nil, 422, "invalid_request"),
                (
                    "PATCH", "/v1/actions/runs/\(runID)/approval", #"{"status":"APPROVE"}"#, 422,
                    "run_not_waiting_for_approval"
                ),
            ]
            for (method, path, body, status, code) in cases {
                let response = try await harness.call(method, path, token: token, body: body)
                #expect(response.status == status, "\(method) \(path) \(body ?? "")")
                #expect(response.json["ok"] == false)
                #expect(response.json["error"]?.stringValue == code, "\(method) \(path)")
            }
            let malformed = try await harness.call(
                "PATCH",
                "/v1/actions/runs/\(runID)",
                token: token,
                body: #"{"status": "SUCC"#
            )
            #expect(malformed.json["message"]?.stringValue?.hasPrefix("Malformed JSON at line 1, column") == true)
            let tooLarge = try await RawHTTPClient.send(
                port: harness.port,
                method: "POST",
                path: "/v1/actions/runs/\(runID)/logs",
                headers: [("Authorization", "Bearer \(token)")],
                body: [UInt8](repeating: 0x20, count: (1 << 20) + 1)
            )
            #expect(tooLarge.status == 413)
            #expect(try await harness.call("GET", "/v1/actions/runs/\(runID)", token: token).status == 200)
        }
    }

    @Test("the journal records every call in order and violations name the rule that refused")
    func journalAndViolations() async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            let runID = try await harness.createRun()
            _ = try await harness.call(
                "PATCH",
                "/v1/actions/runs/\(runID)",
                token: token,
                body: #"{"status":"SUCCESS"}"#
            )
            _ = try await harness.call(
                "POST",
                "/v1/actions/runs/\(runID)/logs",
                token: token,
                body: #"{"message":"late"}"#
            )

            let journal = try await harness.call("GET", "/_emulator/journal")
            let entries = try #require(journal.json["journal"]?.arrayValue)
            #expect(
                entries.map { "\($0["method"]!.stringValue!) \($0["status"]!.intValue!)" } == [
                    "POST 200", "PATCH 200", "POST 422",
                ]
            )
            #expect(
                entries.dropFirst().allSatisfy {
                    $0["runId"]?.stringValue == runID && $0["clientId"] == "emulator-client-id"
                }
            )

            let violations = try #require(
                try await harness.call("GET", "/_emulator/violations").json["violations"]?.arrayValue
            )
            #expect(violations.count == 1)
            #expect(violations.first?["rule"] == "run-locked-after-finish")
            #expect(violations.first?["error"] == "run_exhausted")
            #expect(violations.first?["runId"]?.stringValue == runID)

            // Refusals of the HTTP layer itself are violations too, with their own rules.
            _ = try await harness.call("GET", "/v1/no-such-route", token: token)
            _ = try await harness.call("DELETE", "/v1/actions/runs/\(runID)", token: token)
            _ = try await RawHTTPClient.send(
                port: harness.port,
                method: "POST",
                path: "/v1/actions/runs/\(runID)/logs",
                headers: [("Authorization", "Bearer \(token)")],
                body: [UInt8](repeating: 0x20, count: (1 << 20) + 1)
            )
            let refusedByServer = harness.emulator.recorder.violations.dropFirst()
            #expect(refusedByServer.map(\.rule) == ["route-exists", "method-allowed", "body-size-limit"])
            #expect(refusedByServer.map(\.status) == [404, 405, 413])
            #expect(refusedByServer.allSatisfy { $0.clientID == "emulator-client-id" })

            let runs = try await harness.call("GET", "/_emulator/runs")
            #expect(runs.json["runs"]?.arrayValue?.first?["status"] == "SUCCESS")
            #expect(try await harness.call("POST", "/_emulator/reset").status == 200)
            #expect(try await harness.call("GET", "/_emulator/journal").json["journal"] == [])
            #expect(try await harness.call("GET", "/_emulator/runs").json["runs"] == [])
        }
    }

    @Test("a run created through the admin API takes its fixture action's title, blueprint and approval rule")
    func adminRunUsesFixture() async throws {
        try await EmulatorHarness.run { harness in
            let runID = try await harness.createRun(#"{"action":"deploy_service","properties":{"version":"1"}}"#)
            let run = try harness.emulator.runs.run(runID)
            #expect(run.request.action.title == "Deploy service")
            #expect(run.request.blueprintIdentifier == "service")
            #expect(run.request.blueprintTitle == "Deployable service")
            let waiting = try await harness.createRun(#"{"action":"create_vm","requiredApproval":true}"#)
            #expect(try harness.emulator.runs.run(waiting).status == .waitingForApproval)
            let adHoc = try await harness.createRun(#"{"action":"not_in_fixtures"}"#)
            #expect(try harness.emulator.runs.run(adHoc).request.blueprintIdentifier == nil)
        }
    }

    @Test("runs are listed newest first and filtered by action and activity")
    func listRuns() async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            let first = try await harness.createRun(#"{"action":"create_vm"}"#)
            let second = try await harness.createRun(#"{"action":"deploy_service"}"#)
            let third = try await harness.createRun(#"{"action":"create_vm"}"#)
            _ = try await harness.call(
                "PATCH",
                "/v1/actions/runs/\(first)",
                token: token,
                body: #"{"status":"SUCCESS"}"#
            )
            let all = try await harness.call("GET", "/v1/actions/runs", token: token)
            #expect(all.json["runs"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [third, second, first])
            let active = try await harness.call("GET", "/v1/actions/runs?action=create_vm&active=true", token: token)
            #expect(active.json["runs"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [third])
            let triggered = try await harness.call(
                "POST",
                "/v1/actions/create_vm/runs?run_as=dev@example.com",
                token: token,
                body: #"{"properties":{"name":"vm-9","cpu":2}}"#
            )
            let fourth = try #require(triggered.json["run"]?["id"]?.stringValue)
            let byUser = try await harness.call("GET", "/v1/actions/runs?user_id=dev@example.com", token: token)
            #expect(byUser.json["runs"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [fourth])
            let bySource = try await harness.call("GET", "/v1/actions/runs?source=API&limit=2", token: token)
            #expect(bySource.json["runs"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [fourth, third])
            for bad in ["source=CLI", "active=maybe", "limit=0", "version=v9"] {
                let refused = try await harness.call("GET", "/v1/actions/runs?\(bad)", token: token)
                #expect(refused.status == 422, "\(bad)")
                #expect(refused.json["error"] == "invalid_request", "\(bad)")
            }
        }
    }
}

@Suite("Port API under concurrent requests", .heavy, .timeLimit(.minutes(10)))
struct ConcurrentAPITests {
    @Test("200 concurrent PATCH and log requests over HTTP leave one terminal status and every accepted log")
    func concurrentReports() async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            let runID = try await harness.createRun()
            let outcomes = try await withThrowingTaskGroup(of: (index: Int, status: Int, error: String?).self) {
                group in
                for index in 0..<200 {
                    group.addTask {
                        let (method, path, body): (String, String, String) =
                            switch index % 4 {
                            case 0: ("POST", "/v1/actions/runs/\(runID)/logs", #"{"message":"log \#(index)"}"#)
                            case 1: ("PATCH", "/v1/actions/runs/\(runID)", #"{"statusLabel":"label \#(index)"}"#)
                            case 2 where index % 40 == 2:
                                (
                                    "POST", "/v1/actions/runs/\(runID)/logs",
                                    #"{"message":"log \#(index)","terminationStatus":"SUCCESS"}"#
                                )
                            case 2: ("POST", "/v1/actions/runs/\(runID)/logs", #"{"message":"log \#(index)"}"#)
                            default:
                                ("PATCH", "/v1/actions/runs/\(runID)", #"{"status":"FAILURE","summary":"s \#(index)"}"#)
                            }
                        let response = try await harness.call(method, path, token: token, body: body)
                        return (index, response.status, response.json["error"]?.stringValue)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.count == 200)
            for outcome in outcomes where outcome.status >= 300 {
                #expect(outcome.status == 422 && outcome.error == "run_exhausted", "request \(outcome.index)")
            }
            let finishers = outcomes.filter {
                ($0.index % 4 == 3 || $0.index % 40 == 2) && $0.status < 300
            }
            #expect(finishers.count == 1, "exactly one request finished the run")
            let run = try harness.emulator.runs.run(runID)
            #expect(run.status.isFinished)
            let acceptedLogs = Set(
                outcomes.filter { $0.index % 2 == 0 && $0.status == 201 }.map { "log \($0.index)" }
            )
            var served: [String] = []
            while true {
                let page = try await harness.call(
                    "GET",
                    "/v1/actions/runs/\(runID)/logs?limit=50&offset=\(served.count)",
                    token: token
                )
                let messages = page.json["runLogs"]?.arrayValue?.compactMap { $0["message"]?.stringValue } ?? []
                served += messages
                if messages.count < 50 { break }
            }
            #expect(Set(served) == acceptedLogs)
            #expect(served.count == acceptedLogs.count, "no log is lost or doubled")
            #expect(harness.emulator.recorder.journal.count >= 201)
        }
    }
}
