import Conformance
import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

@Suite("verify under small caps", .heavy, .timeLimit(.minutes(10)))
struct CapVerifyTests {
    @Test(
        "with --max-finished-runs 20 and --max-journal-entries 50, port-consumer still passes, 200 runs burst included, and the report counts what was evicted"
    )
    func smallCapsStillJudgeCorrectly() async throws {
        let names = ["01_create_microservice", "05_rollback_service_fails", "06_approval", "14_burst_200"]
        let scenarios = try Scenario.load(directory: Repository.scenarios).filter { names.contains($0.name) }
        #expect(scenarios.count == names.count)
        let (report, _) = try await verify(
            scenarios,
            command: [Repository.binaries + "/port-consumer", "--handlers", Repository.handlers]
        ) { options in
            options.journalCapacity = 50
            options.finishedRunCapacity = 20
        }
        #expect(report.passed, "\(report.table)")
        let burst = try #require(report.results.first { $0.name == "14_burst_200" })
        // Every run judged from what verify saw when it finished, though most were evicted.
        #expect(burst.statistics.statuses["SUCCESS"] == 200)
        // Counted when the last scenario was judged: the burst's runs are held until then.
        #expect(report.evicted.runs >= 1)
        #expect(report.evicted.journal > 0)
        #expect(report.evicted.runCapacity == 20)
        #expect(report.table.contains("The emulator's caps evicted its oldest"))
        #expect(report.json["evicted"]?["runs"]?.intValue == Int64(report.evicted.runs))
    }

    @Test(
        "a wrong result still fails under a cap of one finished run: the run's SUCCESS is judged, not lost with the run"
    )
    func failuresStillFail() async throws {
        // The buggy consumer's control mode reports SUCCESS for every run.
        let scenarios = [
            try scenario(
                "first_vm",
                #"{"trigger":{"action":"create_vm","inputs":{"name":"first","cpu":2}},"expect":{"status":"SUCCESS","within":"8s","minLogs":1}}"#
            ),
            try scenario(
                "expects_failure",
                #"{"trigger":{"action":"create_vm","inputs":{"name":"second","cpu":2}},"expect":{"status":"FAILURE","within":"8s"}}"#
            ),
            try scenario(
                "third_vm",
                #"{"trigger":{"action":"create_vm","inputs":{"name":"third","cpu":2}},"expect":{"status":"SUCCESS","within":"8s","minLogs":1}}"#
            ),
        ]
        let (report, _) = try await verify(
            scenarios,
            command: ["python3", Repository.buggyConsumer, "correct"],
            readyPattern: "buggy consumer started"
        ) { options in
            options.journalCapacity = 5
            options.finishedRunCapacity = 1
        }
        let results = Dictionary(uniqueKeysWithValues: report.results.map { ($0.name, $0) })
        #expect(results["first_vm"]?.passed == true, "\(report.table)")
        #expect(results["third_vm"]?.passed == true, "\(report.table)")
        let wrong = try #require(results["expects_failure"])
        #expect(!wrong.passed)
        #expect(wrong.got == "SUCCESS", "\(report.table)")
        // Judged last, the third run saw the first two evicted.
        #expect(report.evicted.runs >= 1)
        #expect(report.evicted.journal >= 1)
    }
}
