import Conformance
import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

/// Small Python consumers (confluent-kafka, the librdkafka Python binding), each with one
/// deliberate bug: `verify` must fail each on the right scenario with the right explanation.
@Suite(
    "verify catches a misbehaving consumer in another language, on the right scenario",
    .heavy,
    .timeLimit(.minutes(10))
)
struct MisbehavingConsumerTests {
    /// Three plain scenarios: two runs, then one whose first status report meets a 429.
    static func scenarios() throws -> [Scenario] {
        [
            try scenario(
                "first_vm",
                #"{"trigger":{"action":"create_vm","inputs":{"name":"first","cpu":2}},"expect":{"status":"SUCCESS","within":"8s","minLogs":1}}"#
            ),
            try scenario(
                "second_vm",
                #"{"trigger":{"action":"create_vm","inputs":{"name":"second","cpu":2}},"expect":{"status":"SUCCESS","within":"8s","minLogs":1}}"#
            ),
            try scenario(
                "rate_limited",
                #"""
                {"faults":[{"status":429,"retryAfter":2,"method":"PATCH","path":"/v1/actions/runs/*","count":1}],
                 "trigger":{"action":"create_vm","inputs":{"name":"third","cpu":2}},
                 "expect":{"status":"SUCCESS","within":"10s","minLogs":1}}
                """#
            ),
        ]
    }

    struct Case: Sendable, CustomStringConvertible {
        let bug: String
        /// Scenario → the explanations its failure must contain; the others must pass.
        let failing: [String: [String]]
        var description: String { bug }
    }

    static let cases: [Case] = [
        Case(bug: "correct", failing: [:]),
        Case(
            bug: "never-terminates",
            failing: [
                "first_vm": [
                    "is IN_PROGRESS after ", "(allowed 8s), expected SUCCESS", "never reported a terminal status",
                ],
                "second_vm": ["never reported a terminal status"],
                "rate_limited": ["never reported a terminal status"],
            ]
        ),
        Case(
            bug: "patches-in-progress",
            failing: [
                "first_vm": ["contract violation: PATCH /v1/actions/runs/", "rule patch-status-terminal-only"],
                "second_vm": ["rule patch-status-terminal-only"],
                "rate_limited": ["rule patch-status-terminal-only"],
            ]
        ),
        Case(
            bug: "writes-after-finish",
            failing: [
                "first_vm": [
                    "contract violation: POST /v1/actions/runs/", "422 run_exhausted (rule run-locked-after-finish)",
                ],
                "second_vm": ["rule run-locked-after-finish"],
                "rate_limited": ["rule run-locked-after-finish"],
            ]
        ),
        Case(
            bug: "commit-then-crash",
            failing: [
                "first_vm": [
                    "the consumer crashed during this scenario (exit status 1)",
                    "crashing while handling",
                    "was committed by group org_emulator.consumer",
                    "the run is lost",
                ]
            ]
        ),
        Case(
            bug: "ignores-429",
            failing: ["rate_limited": ["rule retry-after-respected", "repeated before its Retry-After window ended"]]
        ),
    ]

    @Test("a consumer group without the ORG_ID. prefix fails verify with Port's ACL refusal as the explanation")
    func wrongGroup() async throws {
        // The run is never handled: the scenario lasts its whole deadline, which must cover the
        // consumer's refused FindCoordinator even on a slow machine (AddressSanitizer, two
        // suites on two cores), so that the refusal falls inside the scenario.
        var scenario = try Self.scenarios()[0]
        scenario.expect.within = .seconds(30)
        let (report, _) = try await verify(
            [scenario],
            command: ["python3", Repository.buggyConsumer, "wrong-group"],
            readyPattern: "buggy consumer started"
        )
        let result = try #require(report.results.first)
        #expect(!result.passed)
        let explanation = result.failures.joined(separator: "\n")
        #expect(explanation.contains("the consumer never called Port's API for it"), "\(explanation)")
        #expect(explanation.contains("contract violation: KAFKA FindCoordinator group:my-group"), "\(explanation)")
        #expect(explanation.contains("GROUP_AUTHORIZATION_FAILED"), "\(explanation)")
        #expect(
            explanation.contains("consumer group `my-group` refused: Port's ACLs allow only `org_emulator.*`"),
            "\(explanation)"
        )
    }

    @Test("each bug fails verify where it should, with an explanation naming the rule", arguments: cases)
    func buggyConsumer(_ testCase: Case) async throws {
        let marker = try Repository.temporaryDirectory() + "/crashed"
        let (report, progress) = try await verify(
            try Self.scenarios(),
            command: ["python3", Repository.buggyConsumer, testCase.bug],
            readyPattern: "assigned [0-9]+ partitions",
            environment: ["BUGGY_CONSUMER_CRASH_MARKER": marker]
        )
        #expect(report.results.map(\.name) == ["first_vm", "second_vm", "rate_limited"])
        for result in report.results {
            let explanation = result.failures.joined(separator: "\n")
            if let expected = testCase.failing[result.name] {
                #expect(!result.passed, "\(result.name) should fail")
                for phrase in expected {
                    #expect(explanation.contains(phrase), "\(result.name): missing \"\(phrase)\" in:\n\(explanation)")
                }
            } else {
                #expect(result.passed, "\(result.name) should pass: \(explanation)")
            }
        }
        #expect(report.passed == testCase.failing.isEmpty)
        // One live line per scenario as it finishes, before the table.
        #expect(progress.filter { $0.hasPrefix("PASS  ") || $0.hasPrefix("FAIL  ") }.count == 3)
        if testCase.bug == "commit-then-crash" {
            #expect(report.events.contains { $0.contains("consumer ended (exit status 1); starting it again") })
            #expect(report.events.contains { $0.contains("consumer ready again") })
        }
    }
}
