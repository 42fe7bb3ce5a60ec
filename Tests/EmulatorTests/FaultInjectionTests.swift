import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

@Suite(
    "Fault injection: HTTP faults, Retry-After, token expiry and Kafka faults, all journaled",
    .heavy,
    .timeLimit(.minutes(10))
)
struct FaultInjectionTests {
    @Test("stopping with a broker outage pending ends its restore timer first: nothing touches the destroyed cluster")
    func stopWithOutagePending() async throws {
        let harness = try await EmulatorHarness.run { harness in
            let injected = try await harness.call(
                "POST",
                "/_emulator/faults",
                // Long enough that only the stop can end its timer, however loaded the machine.
                body: #"{"kind":"kafka-broker-down","duration":"60s"}"#
            )
            #expect(injected.status == 201 || injected.status == 200, "\(injected.json)")
            #expect(harness.emulator.faults.pendingTimers == 1)
            return harness
        }
        // Before, the timer outlived stop() and set the brokers up on the freed mock cluster.
        #expect(harness.emulator.faults.pendingTimers == 0)
        #expect(throws: PortError.self, "a stopped injector schedules nothing") {
            try harness.emulator.faults.inject(.kafkaBrokerDown(broker: nil, duration: .milliseconds(100)))
        }
    }

    @Test(
        "path patterns: * stays within a segment, ** crosses segments, no * means a prefix",
        arguments: [
            ("/v1/actions/runs/*", "/v1/actions/runs/r_1", true),
            ("/v1/actions/runs/*", "/v1/actions/runs/r_1/logs", false),
            ("/v1/actions/runs/*/logs", "/v1/actions/runs/r_1/logs", true),
            ("/v1/**", "/v1/blueprints/vm/entities", true),
            ("/v1/**", "/_emulator/runs", false),
            ("/v1/actions", "/v1/actions/runs/r_1", true),
            ("/v1/blueprints", "/v1/actions", false),
            ("/v1/*/runs", "/v1/actions/runs", true),
        ]
    )
    func pathPatterns(pattern: String, path: String, matches: Bool) {
        #expect(PathPattern(pattern).matches(path) == matches)
    }

    @Test("fault bodies are checked, and a bad one is refused with 422 saying what is wrong")
    func badFaults() async throws {
        try await EmulatorHarness.run { harness in
            let cases: [(String, String)] = [
                (#"{"status":404}"#, "429 or a 5xx"),
                (#"{"status":500,"latency":"1s"}"#, "exactly one of"),
                (#"{"latency":"soon"}"#, "duration"),
                (#"{"status":500,"probability":1.5}"#, "probability"),
                (
                    #"{"kind":"kafka-request-errors","api":"Gossip","error":"REQUEST_TIMED_OUT"}"#,
                    "body.api must be one of"
                ),
                (#"{"kind":"kafka-request-errors","api":"Fetch","error":"NOPE"}"#, "Kafka error name"),
                (#"{"kind":"kafka-broker-down"}"#, "duration is required"),
                (#"{"kind":"meteor"}"#, "body.kind must be"),
            ]
            for (body, message) in cases {
                let response = try await harness.call("POST", "/_emulator/faults", body: body)
                #expect(response.status == 422, "\(body)")
                #expect(response.json["message"]?.stringValue?.contains(message) == true, "\(body): \(response.json)")
            }
        }
    }

    @Test("an added latency delays the answer, the route still runs, and the journal names the fault")
    func latency() async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            let runID = try await harness.createRun()
            let armed = try await harness.call(
                "POST",
                "/_emulator/faults",
                body: #"{"latency":"400ms","method":"POST","path":"/v1/actions/runs/*/logs","count":1}"#
            )
            #expect(armed.status == 201)
            #expect(armed.json["injected"]?.stringValue == "latency 400ms on POST /v1/actions/runs/*/logs, next 1")
            let clock = ContinuousClock()
            let start = clock.now
            let slow = try await harness.call(
                "POST",
                "/v1/actions/runs/\(runID)/logs",
                token: token,
                body: #"{"message":"slow"}"#
            )
            #expect(slow.status == 201)
            #expect(clock.now - start >= .milliseconds(400))
            #expect(try harness.emulator.runs.logs(runID).map(\.message) == ["slow"])
            let journal = harness.emulator.recorder.journal
            #expect(journal.contains { $0.method == "FAULT" && $0.injected?.hasPrefix("latency 400ms") == true })
            #expect(journal.contains { $0.path.hasSuffix("/logs") && $0.injected == "latency 400ms" })
        }
    }

    @Test("a dropped connection closes the socket without an answer and does not run the route")
    func droppedConnection() async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            let runID = try await harness.createRun()
            _ = try await harness.call("POST", "/_emulator/faults", body: #"{"drop":true,"method":"PATCH","count":1}"#)
            await #expect(throws: (any Error).self) {
                _ = try await harness.call(
                    "PATCH",
                    "/v1/actions/runs/\(runID)",
                    token: token,
                    body: #"{"status":"SUCCESS"}"#
                )
            }
            #expect(try harness.emulator.runs.run(runID).status == .inProgress)
            #expect(
                harness.emulator.recorder.journal.contains {
                    $0.method == "PATCH" && $0.injected == "dropped connection"
                }
            )
            // The fault was used up: the retry goes through.
            let retry = try await harness.call(
                "PATCH",
                "/v1/actions/runs/\(runID)",
                token: token,
                body: #"{"status":"SUCCESS"}"#
            )
            #expect(retry.status == 200)
        }
    }

    @Test("a probability hits about that share of matching requests, and injected answers are not violations")
    func probability() async throws {
        try await EmulatorHarness.run { harness in
            _ = try await harness.call(
                "POST",
                "/_emulator/faults",
                body: #"{"status":503,"probability":0.5,"path":"/v1/auth"}"#
            )
            var failed = 0
            for _ in 0..<200 {
                let response = try await harness.call(
                    "POST",
                    "/v1/auth/access_token",
                    body:
                        #"{"clientId":"emulator-client-id","clientSecret":"\#(EmulatorConfiguration.defaultClientSecret)"}"#
                )
                if response.status == 503 { failed += 1 } else { #expect(response.status == 200) }
            }
            // Binomial(200, 0.5): 60...140 is more than five standard deviations wide.
            #expect((60...140).contains(failed), "\(failed) of 200 failed")
            #expect(harness.emulator.recorder.violations.isEmpty)
            #expect(harness.emulator.recorder.journal.filter { $0.injected == "status 503" }.count == failed)
            _ = try await harness.call("DELETE", "/_emulator/faults")
            let after = try await harness.call(
                "POST",
                "/v1/auth/access_token",
                body:
                    #"{"clientId":"emulator-client-id","clientSecret":"\#(EmulatorConfiguration.defaultClientSecret)"}"#
            )
            #expect(after.status == 200)
        }
    }

    @Test("a request repeated inside a 429's Retry-After window is refused again as a violation")
    func retryAfterWindow() async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            let runID = try await harness.createRun()
            _ = try await harness.call(
                "POST",
                "/_emulator/faults",
                // 10 s: the repeat must land inside the window even on a loaded machine.
                body: #"{"status":429,"retryAfter":10,"method":"PATCH","count":1}"#
            )
            let patch = #"{"status":"SUCCESS"}"#
            let first = try await harness.call("PATCH", "/v1/actions/runs/\(runID)", token: token, body: patch)
            #expect(first.status == 429)
            #expect(first.headers["retry-after"] == "10")
            let hasty = try await harness.call("PATCH", "/v1/actions/runs/\(runID)", token: token, body: patch)
            #expect(hasty.status == 429)
            let violation = try #require(harness.emulator.recorder.violations.last)
            #expect(violation.rule == "retry-after-respected")
            #expect(violation.runID == runID)
            // Another request of the same client is not held back: only the repeat is.
            let log = try await harness.call(
                "POST",
                "/v1/actions/runs/\(runID)/logs",
                token: token,
                body: #"{"message":"x"}"#
            )
            #expect(log.status == 201)
            try await waitUntil("the Retry-After window to end", within: .seconds(40)) {
                try await harness.call("PATCH", "/v1/actions/runs/\(runID)", token: token, body: patch).status == 200
            }
            #expect(try harness.emulator.runs.run(runID).status == .success)
        }
    }

    @Test("expiring every token: the old token is refused as expired, and a new one is issued")
    func expireTokens() async throws {
        try await EmulatorHarness.run { harness in
            let old = try await harness.token()
            let injected = try await harness.call("POST", "/_emulator/faults", body: #"{"kind":"expire-tokens"}"#)
            #expect(injected.status == 201)
            let refused = try await harness.call("GET", "/v1/actions", token: old)
            #expect(refused.status == 401)
            #expect(harness.emulator.recorder.violations.last?.rule == "token-not-expired")
            let fresh = try await harness.token()
            #expect(fresh != old)
            #expect(try await harness.call("GET", "/v1/actions", token: fresh).status == 200)
            #expect(
                harness.emulator.recorder.journal.contains {
                    $0.method == "FAULT" && $0.injected == "expire all tokens"
                }
            )
        }
    }

    @Test("Kafka faults reach the embedded cluster: a broker outage and Produce errors delay publishing, not lose it")
    func kafkaFaults() async throws {
        try await EmulatorHarness.run { harness in
            let down = try await harness.call(
                "POST",
                "/_emulator/faults",
                body: #"{"kind":"kafka-broker-down","duration":"1s"}"#
            )
            #expect(down.status == 201)
            #expect(down.json["injected"]?.stringValue == "Kafka broker all down for 1s")
            let errors = try await harness.call(
                "POST",
                "/_emulator/faults",
                body: #"{"kind":"kafka-request-errors","api":"Produce","error":"NOT_LEADER_FOR_PARTITION","count":2}"#
            )
            #expect(errors.status == 201)
            let runID = try await harness.createRun()
            try await waitUntil("the run's invocation to be published after the outage", within: .seconds(20)) {
                (try? harness.emulator.runs.run(runID).delivery) != nil
            }
            let faults = harness.emulator.recorder.journal.filter { $0.method == "FAULT" }.compactMap(\.injected)
            #expect(faults.contains("Kafka brokers up again"))
            #expect(faults.contains("Kafka Produce fails 2× with NOT_LEADER_FOR_PARTITION"))
            #expect(try harness.emulator.runs.run(runID).status == .inProgress)
        }
    }
}
