import Conformance
import Emulator
import Foundation
import PortContract
import Testing

/// The verdict of `verify` on evidence written by hand, as the admin API answers it: no
/// emulator, no Kafka, no consumer.
@Suite("ScenarioJudge: evidence in, failures out", .timeLimit(.minutes(10)))
struct ScenarioJudgeTests {
    static let triggered = Date(timeIntervalSince1970: 1_800_000_000)

    static func at(_ seconds: Double) -> JSONValue {
        .string(
            triggered.addingTimeInterval(seconds).formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        )
    }

    static func scenario(_ expect: String, approve: Bool = false) throws -> Scenario {
        try Scenario(
            name: "judged",
            json: try JSONValue.parse(
                #"{"trigger":{"action":"create_vm","inputs":{}},"approve":\#(approve),"expect":\#(expect)}"#
            )
        )
    }

    static func run(_ id: String, _ status: String, logs: [String] = ["started"], extra: JSONObject = [:]) -> JSONValue
    {
        var run: JSONObject = [
            "id": .string(id), "status": .string(status), "action": ["identifier": "create_vm"],
            "logs": .array(logs.map { ["message": .string($0)] }),
        ]
        if status != "IN_PROGRESS" { run["endedAt"] = at(2) }
        for (key, value) in extra { run[key] = value }
        return .object(run)
    }

    static func call(
        _ runID: String,
        _ method: String,
        status: Int = 200,
        at seconds: Double = 1,
        injected: String? = nil
    )
        -> JSONValue
    {
        var entry: JSONObject = [
            "time": at(seconds), "clientId": "emulator-client-id", "method": .string(method),
            "path": .string("/v1/actions/runs/\(runID)"), "status": .int(Int64(status)), "runId": .string(runID),
        ]
        entry["injected"] = injected.map(JSONValue.string)
        return .object(entry)
    }

    func judge(
        _ expect: String,
        runs: [JSONValue],
        journal: [JSONValue] = [],
        violations: [JSONValue] = [],
        configure: (inout ScenarioJudge) -> Void = { _ in }
    ) throws -> ScenarioJudge.Verdict {
        let ids = runs.compactMap { $0["id"]?.stringValue }
        var judge = ScenarioJudge(
            scenario: try Self.scenario(expect),
            runIDs: ids,
            triggeredAt: Self.triggered,
            waited: .seconds(3)
        )
        configure(&judge)
        let evidence = ScenarioEvidence(runs: runs, journal: journal, violations: violations)
        return judge.verdict(on: evidence, since: Self.triggered)
    }

    @Test("a run that ends as expected passes, with its statistics counted")
    func passing() throws {
        let verdict = try judge(
            #"{"status":"SUCCESS","minLogs":1,"maxApiCalls":3}"#,
            runs: [Self.run("r_1", "SUCCESS")],
            journal: [Self.call("r_1", "POST"), Self.call("r_1", "PATCH")]
        )
        #expect(verdict.failures == [])
        #expect(verdict.got == "SUCCESS")
        #expect(verdict.statistics.consumerCalls == 2)
        #expect(verdict.statistics.statuses == ["SUCCESS": 1])
        #expect(verdict.statistics.lastFinishedAfter == 2)
    }

    @Test("a wrong terminal status names what was expected, the wait and the last log")
    func wrongStatus() throws {
        let verdict = try judge(#"{"status":"SUCCESS"}"#, runs: [Self.run("r_1", "FAILURE", logs: ["boom"])])
        #expect(
            verdict.failures == [
                "run r_1 is FAILURE after 3.00s (allowed 10s), expected SUCCESS (last log: \"boom\")"
            ]
        )
    }

    @Test(
        "an unfinished run is explained by what the consumer did, and whether it was ready",
        arguments: [
            (true, [JSONValue](), "the consumer never called Port's API for it (it did not handle the invocation)"),
            (false, [], "the consumer never called Port's API at all (it never became ready)"),
            (
                true, [call("r_1", "POST")],
                "the consumer made 1 call(s) for it but never reported a terminal status (last: POST /v1/actions/runs/r_1 → 200)"
            ),
        ]
    )
    func unfinished(ready: Bool, journal: [JSONValue], explanation: String) throws {
        let verdict = try judge(
            #"{"status":"SUCCESS"}"#,
            runs: [Self.run("r_1", "IN_PROGRESS")],
            journal: journal
        ) { $0.consumerWasReady = ready }
        #expect(verdict.failures.count == 1)
        #expect(verdict.failures.first?.contains(explanation) == true, "\(verdict.failures)")
        #expect(verdict.statistics.unfinished == 1)
    }

    @Test("a run whose message the group committed although it never finished is lost")
    func lostRun() throws {
        let run = Self.run("r_1", "IN_PROGRESS", extra: ["kafka": ["partition": 2, "offset": 7]])
        let scenario = try Self.scenario(#"{"status":"SUCCESS"}"#)
        var judge = ScenarioJudge(scenario: scenario, runIDs: ["r_1"], triggeredAt: Self.triggered, waited: .seconds(3))
        let evidence = ScenarioEvidence(runs: [run], journal: [], violations: [])
        #expect(judge.needsCommittedOffsets(evidence))
        judge.committed = ("org_emulator.consumer", [2: 8])
        let verdict = judge.verdict(on: evidence, since: Self.triggered)
        #expect(verdict.statistics.lost == 1)
        #expect(
            verdict.failures.first?.contains(
                "its Kafka message (partition 2, offset 7) was committed by group org_emulator.consumer (next offset 8) "
                    + "although the run never finished: the run is lost"
            ) == true,
            "\(verdict.failures)"
        )
        judge.committed = ("org_emulator.consumer", [2: 7])  // not past it: not lost
        #expect(judge.verdict(on: evidence, since: Self.triggered).statistics.lost == 0)
        let finished = ScenarioEvidence(runs: [Self.run("r_1", "SUCCESS")], journal: [], violations: [])
        #expect(!judge.needsCommittedOffsets(finished))
    }

    @Test("calls an injected fault answered do not count against maxApiCalls; the others do")
    func apiCallLimit() throws {
        let retried = [JSONValue](repeating: Self.call("r_1", "PATCH", status: 503, injected: "http 503"), count: 4)
        let passing = try judge(
            #"{"status":"SUCCESS","maxApiCalls":2}"#,
            runs: [Self.run("r_1", "SUCCESS")],
            journal: retried + [Self.call("r_1", "PATCH")]
        )
        #expect(passing.failures == [])
        #expect(passing.statistics.injectedFaults == 4)
        let chatty = try judge(
            #"{"status":"SUCCESS","maxApiCalls":2}"#,
            runs: [Self.run("r_1", "SUCCESS")],
            journal: [JSONValue](repeating: Self.call("r_1", "POST"), count: 3)
        )
        #expect(chatty.failures.first?.hasPrefix("the consumer made 3 API calls for run r_1") == true)
    }

    @Test("acting on a run before its approval fails, naming the call")
    func beforeApproval() throws {
        let verdict = try judge(
            #"{"status":"SUCCESS"}"#,
            runs: [Self.run("r_1", "SUCCESS")],
            journal: [Self.call("r_1", "POST", at: 0.5), Self.call("r_1", "PATCH", at: 1.5)]
        ) { $0.approvedAt = ["r_1": Self.triggered.addingTimeInterval(1)] }
        #expect(
            verdict.failures == [
                "the consumer acted on run r_1 before it was approved: POST /v1/actions/runs/r_1 → 200"
            ]
        )
    }

    @Test("a burst reports three problems of a kind, then a count")
    func burst() throws {
        let runs = (1...5).map { Self.run("r_\($0)", "FAILURE", logs: []) }
        let verdict = try judge(#"{"status":"FAILURE","minLogs":1}"#, runs: runs)
        #expect(verdict.failures.count == 4)
        #expect(verdict.failures.last == "… and 2 more run(s) with the same kind of problem (logs)")
        #expect(verdict.got == "5× FAILURE")
    }

    @Test("violations about the runs beyond maxViolations fail; the tester's own and expired tokens do not count")
    func violations() throws {
        func violation(_ client: String, rule: String) -> JSONValue {
            [
                "time": Self.at(1), "clientId": .string(client), "runId": "r_1", "method": "PATCH",
                "path": "/v1/actions/runs/r_1", "status": 422, "error": "invalid_request", "rule": .string(rule),
                "message": "bad status",
            ]
        }
        let verdict = try judge(
            #"{"status":"SUCCESS"}"#,
            runs: [Self.run("r_1", "SUCCESS")],
            violations: [
                violation("emulator-client-id", rule: "run-status-transition"),
                violation(EmulatorConfiguration.testerClientID, rule: "run-status-transition"),
                violation("emulator-client-id", rule: "token-not-expired"),
            ]
        )
        #expect(verdict.violations.count == 1)
        #expect(verdict.statistics.violationsByRule == ["run-status-transition": 1])
        #expect(
            verdict.failures == [
                "contract violation: PATCH /v1/actions/runs/r_1 → 422 invalid_request (rule run-status-transition): bad status"
            ]
        )
    }
}
