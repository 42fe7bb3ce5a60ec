import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

/// `--max-finished-runs` and `--max-journal-entries`: the oldest go first, the count of what
/// went is shown, and runs in progress, waiting for approval or waited on stay.
@Suite("Caps on the journal and the finished runs", .timeLimit(.minutes(10)))
struct CapTests {
    func makeRun(_ store: RunStore, requiredApproval: Bool = false) -> ActionRun {
        store.create(NewRun(action: RunActionInfo(identifier: "deploy_service"), requiredApproval: requiredApproval))
    }

    func finish(_ store: RunStore, _ id: String) throws {
        _ = try store.appendLog(id, RunLogRequest(message: "done", terminationStatus: .success), by: "c")
    }

    @Test("past the cap the oldest finished runs go, with their logs; runs in progress and waiting stay")
    func oldestFinishedRunsGo() throws {
        let store = RunStore(finishedRunCapacity: 2)
        let inProgress = makeRun(store)
        let waiting = makeRun(store, requiredApproval: true)
        let finished = (0..<5).map { _ in makeRun(store) }
        for run in finished { try finish(store, run.id) }

        #expect(store.evictedRuns == 3)
        #expect(store.runs.map(\.id) == [inProgress.id, waiting.id, finished[3].id, finished[4].id])
        for run in finished.prefix(3) {
            #expect(throws: PortError.runNotFound(run.id)) { try store.run(run.id) }
            #expect(throws: PortError.runNotFound(run.id)) { try store.logs(run.id) }
        }
        #expect(try store.logs(finished[4].id).map(\.message) == ["done"])
        // The run in progress finishes last: it is the newest finished, and the oldest goes.
        try finish(store, inProgress.id)
        #expect(store.evictedRuns == 4)
        #expect(store.runs.map(\.id) == [inProgress.id, waiting.id, finished[4].id])
        #expect(throws: Never.self) { try store.run(waiting.id) }
    }

    @Test("a held run (one a caller waits on) is not evicted while held; released, it is the oldest and goes next")
    func heldRunsStay() throws {
        let store = RunStore(finishedRunCapacity: 1)
        let held = makeRun(store)
        store.hold([held.id])
        try finish(store, held.id)
        let others = (0..<3).map { _ in makeRun(store) }
        for run in others { try finish(store, run.id) }
        // The held run fills the cap: each later run goes as it finishes.
        #expect(throws: Never.self) { try store.run(held.id) }
        #expect(store.evictedRuns == 3)
        store.release([held.id])
        #expect(throws: Never.self) { try store.run(held.id) }
        let last = makeRun(store)
        try finish(store, last.id)
        #expect(throws: PortError.runNotFound(held.id)) { try store.run(held.id) }
        #expect(store.evictedRuns == 4)
        #expect(store.runs.map(\.id) == [last.id])
    }

    @Test("an evicted run's id can be given again, and the order lists it once")
    func evictedIDReused() throws {
        let store = RunStore(finishedRunCapacity: 1)
        let first = try store.create(NewRun(action: RunActionInfo(identifier: "a")), id: "r_reused")
        try finish(store, first.id)
        try finish(store, makeRun(store).id)
        #expect(store.evictedRuns == 1)
        _ = try store.create(NewRun(action: RunActionInfo(identifier: "a")), id: "r_reused")
        #expect(store.runs.map(\.id).filter { $0 == "r_reused" }.count == 1)
    }

    @Test("20,000 finished runs under a cap of 100 keep the last 100, in order (the order is compacted as runs go)")
    func manyRuns() throws {
        let store = RunStore(finishedRunCapacity: 100)
        var last: [String] = []
        for index in 0..<20_000 {
            let run = makeRun(store)
            try finish(store, run.id)
            if index >= 19_900 { last.append(run.id) }
        }
        #expect(store.evictedRuns == 19_900)
        #expect(store.runs.map(\.id) == last)
    }
}

@Suite("Caps over HTTP: the admin API shows what was evicted", .heavy, .timeLimit(.minutes(10)))
struct CapHTTPTests {
    @Test("journal, violations and runs answer with their evicted count and cap; a run in progress survives")
    func adminAPIShowsEvictions() async throws {
        let smallCaps: (inout EmulatorConfiguration) -> Void = {
            $0.journalCapacity = 4
            $0.finishedRunCapacity = 2
        }
        try await EmulatorHarness.run(configure: smallCaps) { harness in
            let token = try await harness.token()
            let survivor = try await harness.createRun()
            var finished: [String] = []
            for _ in 0..<4 {
                let id = try await harness.createRun()
                let answer = try await harness.call(
                    "PATCH",
                    "/v1/actions/runs/\(id)",
                    token: token,
                    body: #"{"status":"SUCCESS"}"#
                )
                #expect(answer.status == 200)
                finished.append(id)
            }
            // Refused writes: a finished run is locked.
            for id in finished.suffix(2) {
                let refused = try await harness.call(
                    "PATCH",
                    "/v1/actions/runs/\(id)",
                    token: token,
                    body: #"{"status":"FAILURE"}"#
                )
                #expect(refused.status == 422)
            }
            for _ in 0..<4 {
                _ = try await harness.call("PATCH", "/v1/actions/runs/r_unknown", token: token, body: "{}")
            }

            let journal = try await harness.call("GET", "/_emulator/journal")
            #expect(journal.json["journal"]?.arrayValue?.count == 4)
            #expect(journal.json["capacity"]?.intValue == 4)
            #expect((journal.json["evicted"]?.intValue ?? 0) >= 6)
            // The last calls are the ones kept.
            #expect(journal.json["journal"]?.arrayValue?.last?["path"] == "/v1/actions/runs/r_unknown")

            let violations = try await harness.call("GET", "/_emulator/violations")
            #expect(violations.json["violations"]?.arrayValue?.count == 4)
            #expect(violations.json["evicted"]?.intValue == 2)
            #expect(violations.json["violations"]?.arrayValue?.last?["path"] == "/v1/actions/runs/r_unknown")

            let runs = try await harness.call("GET", "/_emulator/runs")
            #expect(runs.json["evicted"]?.intValue == 2)
            #expect(runs.json["capacity"]?.intValue == 2)
            #expect(
                runs.json["runs"]?.arrayValue?.compactMap { $0["id"]?.stringValue }
                    == [survivor] + finished.suffix(2)
            )
            let gone = try await harness.call("GET", "/v1/actions/runs/\(finished[0])", token: token)
            #expect(gone.status == 404)
            // A wait on several runs answers the finished ones as they ended, and names the evicted one.
            let wait = try await harness.call(
                "POST",
                "/_emulator/runs/wait",
                body: #"{"ids":["\#(finished[0])","\#(finished[3])"],"timeout":"1s"}"#
            )
            #expect(wait.json["missing"] == [.string(finished[0])])
            #expect(wait.json["runs"]?.arrayValue?.first?["id"] == .string(finished[3]))
            #expect(wait.json["runs"]?.arrayValue?.first?["status"] == "SUCCESS")
        }
    }
}
