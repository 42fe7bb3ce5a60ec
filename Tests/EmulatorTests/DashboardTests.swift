import ChildProcesses
import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

@Suite("The run dashboard at /", .heavy, .timeLimit(.minutes(10)))
struct DashboardTests {
    @Test("the page is served by the binary itself: no external script, style or font")
    func selfContained() async throws {
        try await EmulatorHarness.run { harness in
            let response = try await RawHTTPClient.send(port: harness.port, method: "GET", path: "/")
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "text/html; charset=utf-8")
            let page = response.bodyString
            #expect(page.contains("<title>port-emulator</title>"))
            for external in ["src=\"http", "href=\"http", "@import", "cdn", "googleapis"] {
                #expect(!page.lowercased().contains(external), "the page refers to \(external)")
            }
            // The page is not Port's API: it stays out of the journal.
            #expect(harness.emulator.recorder.journal.isEmpty)
        }
    }

    @Test("admin routes the page reads: one run's journal and violations, and the Kafka message it published")
    func runDetailForThePage() async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            let runID = try await harness.createRun(#"{"action":"create_vm","properties":{"name":"page","cpu":2}}"#)
            let other = try await harness.createRun(#"{"action":"create_vm","properties":{"name":"other","cpu":2}}"#)
            _ = try await harness.call(
                "PATCH",
                "/v1/actions/runs/\(runID)",
                token: token,
                body: #"{"status":"IN_PROGRESS"}"#
            )
            _ = try await harness.call(
                "PATCH",
                "/v1/actions/runs/\(other)",
                token: token,
                body: #"{"status":"SUCCESS"}"#
            )
            let journal =
                try await harness.call("GET", "/_emulator/journal?run=\(runID)").json["journal"]?.arrayValue ?? []
            #expect(journal.count == 1)
            #expect(journal.first?["runId"]?.stringValue == runID)
            let violations = try await harness.call("GET", "/_emulator/violations?run=\(runID)").json["violations"]?
                .arrayValue
            #expect(violations?.count == 1)
            try await waitUntil("the invocation to be published") {
                (try? harness.emulator.runs.run(runID).delivery) != nil
            }
            let detail = try await harness.call("GET", "/_emulator/runs/\(runID)").json["run"]
            #expect(detail?["kafka"]?["message"]?["payload"]?["properties"]?["name"]?.stringValue == "page")
            // The list leaves the messages out: it is polled every half second.
            let list = try await harness.call("GET", "/_emulator/runs").json["runs"]?.arrayValue ?? []
            #expect(list.allSatisfy { $0["kafka"]?["message"] == nil })
        }
    }

    @Test("in headless Chromium: trigger from the form, IN_PROGRESS turns to SUCCESS without a reload, open the run")
    func browser() async throws {
        try await EmulatorHarness.run { harness in
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()
            let artifacts = root.appendingPathComponent("test-artifacts").path
            try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
            let screenshot = artifacts + "/dashboard-run.png"
            try? FileManager.default.removeItem(atPath: screenshot)
            let outputPath = artifacts + "/dashboard-check.log"
            try? FileManager.default.removeItem(atPath: outputPath)
            // A customer's produce, which Port's ACLs refuse: the runs page lists it.
            let produce = try await ChildProcess.run(
                [
                    "kcat", "-P", "-b", harness.emulator.info.kafkaBootstrapServers, "-t",
                    harness.emulator.info.runsTopic,
                ],
                environment: ProcessInfo.processInfo.environment,
                input: Array("not allowed\n".utf8)
            )
            #expect(produce.errors.contains("Topic authorization failed"), "\(produce.errors)")
            let child = try ChildProcess.spawn(
                [
                    "python3", root.appendingPathComponent("Tests/EmulatorTests/Browser/dashboard_check.py").path,
                    harness.emulator.info.apiBaseURL, screenshot,
                ],
                environment: ProcessInfo.processInfo.environment,
                outputPath: outputPath
            )
            let termination = try await withDeadline(.seconds(90), "the browser check") { await child.wait() }
            let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            #expect(!termination.bySignal && termination.status == 0, "\(output)")
            #expect(output.contains("its page shows IN_PROGRESS"), "\(output)")
            #expect(output.contains("the page shows the Kafka message as published"), "\(output)")
            #expect(output.contains("without a reload, the page turned to SUCCESS"), "\(output)")
            #expect(output.contains("opened the run from the runs table"), "\(output)")
            #expect(output.contains("the runs page lists the Kafka produce Port's ACLs refused"), "\(output)")
            #expect(output.contains("the automations page lists the automations and the run one fired"), "\(output)")
            #expect(output.contains("the automation's run shows the event that fired it"), "\(output)")
            #expect(output.contains("a polled run's page shows its claim and ack"), "\(output)")
            let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
            // The run really went through Port's API, triggered with the tester's credentials.
            let run = try #require(harness.emulator.runs.runs.first { $0.request.action.identifier == "create_vm" })
            #expect(run.status == .success)
            #expect(run.request.properties["name"] == "dashboard-vm")
            #expect(run.request.properties["cpu"] == 4)
        }
    }
}
