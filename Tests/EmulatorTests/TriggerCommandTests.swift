import ChildProcesses
import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

/// Runs the built `port-emulator` executable and collects its exit status and output.
enum EmulatorExecutable {
    static let path = BuiltProducts.directory + "/port-emulator"

    static func run(_ arguments: [String]) async throws -> (status: Int32, output: String, errors: String) {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw MissingExecutable(path: path)
        }
        let (termination, output, errors) = try await ChildProcess.run(
            [path] + arguments,
            environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        )
        return (termination.bySignal ? -termination.status : termination.status, output, errors)
    }
}

/// The executable has not been built.
struct MissingExecutable: Error, CustomStringConvertible {
    let path: String
    var description: String { "\(path) is missing: build it with `swift build` first" }
}

@Suite("port-emulator trigger, through the real executable", .heavy, .timeLimit(.minutes(10)))
struct TriggerCommandTests {
    /// Plays the consumer: once the triggered run exists, reports `terminationStatus`.
    func finishNextRun(of harness: EmulatorHarness, as status: String) async throws {
        let token = try await harness.token()
        try await waitUntil("the triggered run") { !harness.emulator.runs.runs.isEmpty }
        let runID = try #require(harness.emulator.runs.runs.first?.id)
        // Report only once `trigger --wait` is following the run (its long-poll is parked).
        try await waitUntil("trigger to follow the run") { harness.emulator.runs.watcherCount(of: runID) == 1 }
        _ = try await harness.call(
            "POST",
            "/v1/actions/runs/\(runID)/logs",
            token: token,
            body: #"{"message":"working on it"}"#
        )
        _ = try await harness.call(
            "POST",
            "/v1/actions/runs/\(runID)/logs",
            token: token,
            body: #"{"message":"finished","terminationStatus":"\#(status)","statusLabel":"all done"}"#
        )
    }

    @Test("--wait exits 0 on SUCCESS and 1 on FAILURE, printing the run id, statuses and logs")
    func waitExitCodes() async throws {
        for (final, code) in [("SUCCESS", Int32(0)), ("FAILURE", 1)] {
            try await EmulatorHarness.run { harness in
                async let result = EmulatorExecutable.run([
                    "trigger", "create_vm", "--input", "name=vm-1", "--input", "cpu=4", "--as", "dev@example.com",
                    "--wait", "--timeout", "20s", "--url", harness.emulator.info.apiURL,
                ])
                try await finishNextRun(of: harness, as: final)
                let (status, output, errors) = try await result
                #expect(status == code, "\(final): \(errors)")
                let lines = output.split(separator: "\n").map(String.init)
                let runID = try #require(harness.emulator.runs.runs.first?.id)
                #expect(lines.first == runID)
                #expect(lines.dropFirst().first == "status IN_PROGRESS", "the run's state as soon as it exists")
                #expect(lines.contains("log    working on it"))
                #expect(lines.contains("log    finished"))
                #expect(lines.last == "status \(final) (all done)")
                #expect(
                    try harness.emulator.runs.run(runID).request.properties == [
                        "name": "vm-1", "cpu": 4, "memoryGiB": 4, "region": "eu-west-1",
                    ]
                )
            }
        }
    }

    @Test("--wait exits 2 when the timeout passes first; a refused request exits 3 with Port's error")
    func timeoutAndRefusal() async throws {
        let url = try await EmulatorHarness.run { harness in
            let url = harness.emulator.info.apiURL
            let timedOut = try await EmulatorExecutable.run([
                "trigger", "create_vm", "--input", "name=vm-1", "--wait", "--timeout", "500ms", "--url", url,
            ])
            #expect(timedOut.status == 2)
            #expect(timedOut.errors.contains("did not finish within 500ms"))
            let refused = try await EmulatorExecutable.run(["trigger", "create_vm", "--input", "cpu=3", "--url", url])
            #expect(refused.status == 3)
            #expect(refused.errors.contains("422 user_inputs_schema_invalid"))
            let unknown = try await EmulatorExecutable.run(["trigger", "no_such_action", "--url", url])
            #expect(unknown.status == 3)
            #expect(unknown.errors.contains("404 not_found"))
            return url
        }
        let unreachable = try await EmulatorExecutable.run(["trigger", "create_vm", "--url", url])
        #expect(unreachable.status == 3)
        #expect(unreachable.errors.contains("cannot reach port-emulator"))
    }
}
