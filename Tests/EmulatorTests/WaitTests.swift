import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

@Suite("GET /_emulator/runs/{id}/wait", .heavy, .timeLimit(.minutes(10)))
struct WaitTests {
    @Test("a wait returns when the run finishes, with its logs, and at once when it already has")
    func waitsForTheEnd() async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            let runID = try await harness.createRun()
            async let waited = harness.call("GET", "/_emulator/runs/\(runID)/wait?timeout=20s")
            try await waitUntil("the wait to be parked") { harness.emulator.runs.watcherCount(of: runID) == 1 }
            _ = try await harness.call(
                "POST",
                "/v1/actions/runs/\(runID)/logs",
                token: token,
                body: #"{"message":"done","terminationStatus":"SUCCESS"}"#
            )
            // Ended by the run, not by its 20 s timeout: `reached` and not `timedOut` say so,
            // whatever the machine's speed.
            let response = try await waited
            #expect(response.json["reached"] == true)
            #expect(response.json["timedOut"] == false)
            #expect(response.json["run"]?["status"] == "SUCCESS")
            #expect(response.json["run"]?["logs"]?.arrayValue?.first?["message"] == "done")
            let again = try await harness.call("GET", "/_emulator/runs/\(runID)/wait?timeout=20s")
            #expect(again.json["reached"] == true)
            #expect(harness.emulator.runs.watcherCount(of: runID) == 0)
        }
    }

    @Test("status= waits for that status; after= wakes on any change; the timeout answers timedOut")
    func conditions() async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            let runID = try await harness.createRun(#"{"action":"create_vm","requiredApproval":true}"#)
            async let approved = harness.call("GET", "/_emulator/runs/\(runID)/wait?status=IN_PROGRESS&timeout=20s")
            try await waitUntil("the wait to be parked") { harness.emulator.runs.watcherCount(of: runID) == 1 }
            _ = try await harness.call(
                "PATCH",
                "/v1/actions/runs/\(runID)/approval",
                token: token,
                body: #"{"status":"APPROVE"}"#
            )
            #expect(try await approved.json["run"]?["status"] == "IN_PROGRESS")
            let version = try harness.emulator.runs.run(runID).version
            async let changed = harness.call("GET", "/_emulator/runs/\(runID)/wait?after=\(version)&timeout=20s")
            try await waitUntil("the wait to be parked") { harness.emulator.runs.watcherCount(of: runID) == 1 }
            _ = try await harness.call(
                "POST",
                "/v1/actions/runs/\(runID)/logs",
                token: token,
                body: #"{"message":"1"}"#
            )
            let afterLog = try await changed
            #expect(afterLog.json["reached"] == true)
            #expect(afterLog.json["run"]?["version"]?.intValue == Int64(version + 1))
            let timedOut = try await harness.call("GET", "/_emulator/runs/\(runID)/wait?timeout=200ms")
            #expect(timedOut.status == 200)
            #expect(timedOut.json["timedOut"] == true)
            #expect(timedOut.json["reached"] == false)
            #expect(try await harness.call("GET", "/_emulator/runs/r_nope/wait").status == 404)
            #expect(try await harness.call("GET", "/_emulator/runs/\(runID)/wait?timeout=soon").status == 422)
            #expect(try await harness.call("GET", "/_emulator/runs/\(runID)/wait?status=DONE").status == 422)
        }
    }

    @Test("stopping the emulator ends a parked wait")
    func stopEndsWaits() async throws {
        let (harness, runID, waited) = try await EmulatorHarness.run { harness in
            let runID = try await harness.createRun()
            let waited = Task { try? await harness.call("GET", "/_emulator/runs/\(runID)/wait?timeout=60s") }
            try await waitUntil("the wait to be parked") { harness.emulator.runs.watcherCount(of: runID) == 1 }
            return (harness, runID, waited)
        }
        // The wait asked for 60 s: ending within a 50 s deadline means the stop ended it, on
        // any machine; and nobody waits on the run any more.
        _ = try await withDeadline(.seconds(50), "the stop to end the parked wait") { await waited.value }
        #expect(harness.emulator.runs.watcherCount(of: runID) == 0, "a parked wait does not hold up stopping")
    }
}
