import ChildProcesses
import Conformance
import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

/// A consumer doing what port-agent does (Consumers/port_agent_like.py) against the emulator:
/// if the emulator stopped taking one of port-agent's steps, agent runs would never end.
@Suite("port-agent's steps for agent runs, through a consumer that takes them", .heavy, .timeLimit(.minutes(10)))
struct PortAgentLikeTests {
    @Test(
        "the streamer setting at start-up; a synchronized agent run ends with the response and SUCCESS; an asynchronous one stays IN_PROGRESS"
    )
    func agentRuns() async throws {
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        try await PortEmulator.withRunning(configuration: configuration, logger: quietLogger) { emulator in
            let directory = try Repository.temporaryDirectory()
            let output = directory + "/agent.log"
            var environment = ProcessInfo.processInfo.environment
            environment.merge(Verifier.consumerEnvironment(emulator.info)) { $1 }
            let agent = try ChildProcess.spawn(
                [
                    "python3",
                    Repository.root.appendingPathComponent("Tests/ConformanceTests/Consumers/port_agent_like.py").path,
                ],
                environment: environment,
                outputPath: output
            )
            @Sendable func printed() -> String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }
            defer { agent.signal(SIGKILL) }
            try await waitUntil("the agent to start", within: .seconds(30)) { printed().contains("assigned") }
            let webhook = try #require(
                printed().split(separator: "\n").first { $0.hasPrefix("webhook=") }.map { String($0.dropFirst(8)) }
            )
            #expect(printed().contains("streamer setting answered 200"), "\(printed())")

            let client = try EmulatorClient(url: emulator.info.apiBaseURL)
            let token = try await client.accessToken()
            for (identifier, synchronized) in [("agent_sync", true), ("agent_async", false)] {
                let definition = try JSONValue.parse(
                    Array(
                        #"""
                        {"identifier":"\#(identifier)","title":"\#(identifier)","trigger":{"type":"self-service",
                         "operation":"CREATE","userInputs":{"properties":{}}},
                         "invocationMethod":{"type":"WEBHOOK","url":"\#(webhook)","agent":true,"synchronized":\#(synchronized)}}
                        """#.utf8
                    )
                )
                _ = try await client.send("POST", "/v1/actions", body: definition, token: token)
            }
            let sync = try #require(try await client.trigger(action: "agent_sync", inputs: [:])["id"]?.stringValue)
            let async = try #require(try await client.trigger(action: "agent_async", inputs: [:])["id"]?.stringValue)

            let finished = try await emulator.runs.wait(for: sync, timeout: .seconds(30)) { $0.isLocked }
            #expect(finished.run.status == .success, "\(printed())")
            #expect(finished.run.response == ["deployed": true])
            // 90 s: under AddressSanitizer on two loaded cores the Python agent is slow to get to it.
            do {
                try await waitUntil("the agent to handle the asynchronous run", within: .seconds(90)) {
                    printed().contains("handled \(async)")
                }
            } catch {
                let journal = emulator.recorder.journal.suffix(12).map { "\($0.method) \($0.path) \($0.status)" }
                Issue.record(
                    "\(error); the agent printed:\n\(printed())\nthe journal's last calls:\n\(journal.joined(separator: "\n"))"
                )
                return
            }
            #expect(try emulator.runs.run(async).status == .inProgress, "no status for an asynchronous agent run")
            #expect(try emulator.runs.logs(async).map(\.message).contains("Sending the request"))

            let organization = try await client.send("GET", "/v1/organization", token: token)
            #expect(organization["organization"]?["settings"]?["portAgentStreamerName"] == "KAFKA")
            // In port-agent's order: the response first, then the status.
            let calls = emulator.recorder.journal.filter { $0.runID == sync && $0.method == "PATCH" }.map(\.path)
            #expect(calls == ["/v1/actions/runs/\(sync)/response", "/v1/actions/runs/\(sync)"])
            #expect(emulator.recorder.violations.isEmpty, "\(emulator.recorder.violations)")
        }
    }
}
