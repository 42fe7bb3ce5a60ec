import ChildProcesses
import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

/// KIP-345 through the front: librdkafka's mock ignores group.instance.id, the front does not.
@Suite(
    "Static membership: a restarted member with its group.instance.id gets its place back at once",
    .heavy,
    .timeLimit(.minutes(10))
)
struct StaticMembershipTests {
    /// One run of Clients/static_member.py, its output in a file.
    struct Member {
        let process: ChildProcess
        let output: String

        static func start(_ harness: FrontHarness, group: String, instance: String) throws -> Member {
            let output = FileManager.default.temporaryDirectory.appendingPathComponent("static-\(UUID().uuidString)")
                .path
            let script = Clients.directory.appendingPathComponent("static_member.py").path
            let process = try ChildProcess.spawn(
                ["python3", script, harness.info.kafkaBootstrapServers, harness.info.runsTopic, group, instance],
                environment: Clients.environment,
                outputPath: output
            )
            return Member(process: process, output: output)
        }

        var events: [JSONObject] {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { try? JSONValue.parse(Array($0.utf8)).objectValue }
        }

        var messages: [String] { values(of: "message") }
        var committed: [String] { values(of: "committed") }

        func values(of kind: String) -> [String] {
            events.filter { $0["event"] == .string(kind) }.compactMap { $0["value"]?.stringValue }
        }
        var assigned: Bool { events.contains { $0["event"] == "assigned" && $0["count"] != 0 } }
    }

    @Test("after a SIGKILL the same instance is assigned within the session timeout and resumes after its commit")
    func restartedInstance() async throws {
        try await FrontHarness.run { harness in
            let group = "\(harness.info.orgID).static"
            let first = try Member.start(harness, group: group, instance: "worker-1")
            try await waitUntil("the first member's assignment", within: .seconds(60)) { first.assigned }
            let before = try await harness.publish(1, tag: "before")
            // Killed only once its commit is acknowledged: a kill between the read and the
            // commit would rightly deliver the message again.
            try await waitUntil("the first member to read and commit") { first.committed == before }
            first.process.signal(SIGKILL)
            _ = await first.process.wait()

            let second = try Member.start(harness, group: group, instance: "worker-1")
            // The member's session is 45 s: without static membership the mock would keep the
            // dead member for that long and rebalance after it. Kafka hands the place back at once.
            try await waitUntil("the restarted member's assignment, within its session timeout", within: .seconds(30)) {
                second.assigned
            }
            let after = try await harness.publish(1, tag: "after")
            try await waitUntil("the restarted member to read on from the committed offset") {
                second.messages == after
            }
            #expect(second.messages == after, "read again: \(second.messages)")
            second.process.signal(SIGKILL)
            _ = await second.process.wait()
        }
    }
}
