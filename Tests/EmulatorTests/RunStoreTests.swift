import Emulator
import Foundation
import PortContract
import Synchronization
import Testing

/// One request a consumer (or approver) makes against a run.
enum RunStep: Sendable, CustomStringConvertible {
    case patch(RunPatch)
    case log(RunLogRequest)
    case decide(approve: Bool)
    case entityWrite

    static let label = RunStep.patch(RunPatch(statusLabel: "deploying"))
    static let patchSuccess = RunStep.patch(RunPatch(status: .success))
    static let patchFailure = RunStep.patch(RunPatch(status: .failure))
    static let plainLog = RunStep.log(RunLogRequest(message: "step 1"))
    static let logSuccess = RunStep.log(RunLogRequest(message: "done", terminationStatus: .success))
    static let logFailure = RunStep.log(RunLogRequest(message: "broke", terminationStatus: .failure))

    var description: String {
        switch self {
        case .patch(let patch): "PATCH \(patch.status?.rawValue ?? "label")"
        case .log(let log): "log \(log.terminationStatus?.rawValue ?? "")"
        case .decide(let approve): approve ? "APPROVE" : "DECLINE"
        case .entityWrite: "entity write with run_id"
        }
    }

    func apply(to store: RunStore, run id: String) throws(PortError) -> ActionRun {
        switch self {
        case .patch(let patch): return try store.patch(id, patch, by: "client-1")
        case .log(let log): return try store.appendLog(id, log, by: "client-1").run
        case .decide(let approve): return try store.decide(id, ApprovalRequest(approve: approve), by: "approver")
        case .entityWrite:
            try store.checkAcceptsEntityWrites(id)
            return try store.run(id)
        }
    }
}

/// One row of the contract's state machine and error table.
struct TransitionRow: Sendable, CustomTestStringConvertible {
    enum Outcome: Sendable {
        case status(RunStatus)
        case refused(status: Int, code: String)
    }

    let name: String
    var requiredApproval = false
    var synchronized = false
    var before: [RunStep] = []
    let step: RunStep
    let outcome: Outcome

    var testDescription: String { name }
}

let transitionTable: [TransitionRow] = [
    TransitionRow(name: "a statusLabel alone leaves IN_PROGRESS", step: .label, outcome: .status(.inProgress)),
    TransitionRow(name: "PATCH SUCCESS finishes the run", step: .patchSuccess, outcome: .status(.success)),
    TransitionRow(name: "PATCH FAILURE finishes the run", step: .patchFailure, outcome: .status(.failure)),
    TransitionRow(name: "a plain log leaves IN_PROGRESS", step: .plainLog, outcome: .status(.inProgress)),
    TransitionRow(name: "a log with terminationStatus SUCCESS finishes", step: .logSuccess, outcome: .status(.success)),
    TransitionRow(name: "a log with terminationStatus FAILURE finishes", step: .logFailure, outcome: .status(.failure)),
    TransitionRow(
        name: "PATCH after SUCCESS is 422 run_exhausted",
        before: [.patchSuccess],
        step: .label,
        outcome: .refused(status: 422, code: "run_exhausted")
    ),
    TransitionRow(
        name: "a log after FAILURE is 422 run_exhausted",
        before: [.patchFailure],
        step: .plainLog,
        outcome: .refused(status: 422, code: "run_exhausted")
    ),
    TransitionRow(
        name: "a second terminationStatus is 422 run_exhausted",
        before: [.logSuccess],
        step: .logFailure,
        outcome: .refused(status: 422, code: "run_exhausted")
    ),
    TransitionRow(
        name: "a status PATCH after a terminating log is 422 run_exhausted",
        before: [.logFailure],
        step: .patchSuccess,
        outcome: .refused(status: 422, code: "run_exhausted")
    ),
    TransitionRow(
        name: "a run needing approval starts WAITING_FOR_APPROVAL and may be labelled",
        requiredApproval: true,
        step: .label,
        outcome: .status(.waitingForApproval)
    ),
    TransitionRow(
        name: "APPROVE moves a waiting run to IN_PROGRESS",
        requiredApproval: true,
        step: .decide(approve: true),
        outcome: .status(.inProgress)
    ),
    TransitionRow(
        name: "DECLINE finishes a waiting run as DECLINED",
        requiredApproval: true,
        step: .decide(approve: false),
        outcome: .status(.declined)
    ),
    TransitionRow(
        name: "approving a run that is not waiting is 422 run_not_waiting_for_approval",
        step: .decide(approve: true),
        outcome: .refused(status: 422, code: "run_not_waiting_for_approval")
    ),
    TransitionRow(
        name: "the approval route on a declined run is 422 run_exhausted",
        requiredApproval: true,
        before: [.decide(approve: false)],
        step: .decide(approve: true),
        outcome: .refused(status: 422, code: "run_exhausted")
    ),
    TransitionRow(
        name: "the approval route on a finished run is 422 run_exhausted",
        before: [.patchSuccess],
        step: .decide(approve: true),
        outcome: .refused(status: 422, code: "run_exhausted")
    ),
    TransitionRow(
        name: "a status PATCH on a synchronized run is 422 run_synchronized_error",
        synchronized: true,
        step: .patchSuccess,
        outcome: .refused(status: 422, code: "run_synchronized_error")
    ),
    TransitionRow(
        name: "a terminating log on a synchronized run is 422 run_synchronized_error",
        synchronized: true,
        step: .logSuccess,
        outcome: .refused(status: 422, code: "run_synchronized_error")
    ),
    TransitionRow(
        name: "a label PATCH on a synchronized run is allowed",
        synchronized: true,
        step: .label,
        outcome: .status(.inProgress)
    ),
    TransitionRow(name: "run_id on an IN_PROGRESS run is accepted", step: .entityWrite, outcome: .status(.inProgress)),
    TransitionRow(
        name: "run_id on a finished run is 400 run_exhausted",
        before: [.patchSuccess],
        step: .entityWrite,
        outcome: .refused(status: 400, code: "run_exhausted")
    ),
]

@Suite("RunStore: Port's run state machine", .timeLimit(.minutes(10)))
struct RunStoreTests {
    func makeRun(_ store: RunStore, requiredApproval: Bool = false, synchronized: Bool = false) -> ActionRun {
        store.create(
            NewRun(
                action: RunActionInfo(identifier: "deploy_service"),
                properties: ["service": "api"],
                requiredApproval: requiredApproval,
                synchronized: synchronized
            )
        )
    }

    @Test("each transition and refusal of the contract's table", arguments: transitionTable)
    func transition(row: TransitionRow) throws {
        let store = RunStore()
        let run = makeRun(store, requiredApproval: row.requiredApproval, synchronized: row.synchronized)
        for step in row.before { _ = try step.apply(to: store, run: run.id) }
        let before = try store.run(run.id)
        switch row.outcome {
        case .status(let expected):
            let after = try row.step.apply(to: store, run: run.id)
            #expect(after.status == expected)
            #expect((after.endedAt != nil) == expected.isFinished)
            #expect(after.isLocked == expected.isFinished)
        case .refused(let status, let code):
            let error = #expect(throws: PortError.self) { try row.step.apply(to: store, run: run.id) }
            #expect(error?.status == status)
            #expect(error?.code == code)
            #expect(try store.run(run.id) == before, "a refused request must not change the run")
        }
    }

    @Test("the run observer hears every creation and change, and still works after 60,000 of them")
    func observerAfterManyChanges() throws {
        let store = RunStore()
        let heard = Mutex(0)
        store.observeRuns { _, _ in heard.withLock { $0 += 1 } }
        // A closure kept bare in a Mutex grew a thunk per call and overflowed the stack
        // after a few thousand (the automation benchmark crashed on it).
        for _ in 0..<30_000 {
            let run = store.create(NewRun(action: RunActionInfo(identifier: "observed")))
            _ = try store.patch(run.id, try RunPatch(body: ["statusLabel": "seen"]), by: "test")
        }
        #expect(heard.withLock { $0 } == 60_000)
    }

    @Test("ids follow Port's formats and a new run records who and when")
    func identifiers() throws {
        let clock = Date(timeIntervalSince1970: 1_700_000_000)
        let store = RunStore(now: { clock })
        let run = makeRun(store)
        #expect(run.id.hasPrefix("r_") && run.id.count == 18)
        #expect(run.id.dropFirst(2).allSatisfy { $0.isLetter || $0.isNumber })
        #expect(run.createdAt == clock)
        let log = try store.appendLog(run.id, RunLogRequest(message: "hi"), by: "client-7").log
        #expect(log.id.hasPrefix("log_") && log.id.count == 20)
        #expect(log.runId == run.id)
        #expect(log.createdBy == "client-7")
        #expect(try store.run(run.id).updatedBy == "client-7")
    }

    @Test("each PATCH replaces the fields it names: a second link list replaces the first")
    func patchReplaces() throws {
        let store = RunStore()
        let run = makeRun(store)
        _ = try store.patch(
            run.id,
            RunPatch(statusLabel: "one", links: ["https://a", "https://b"], summary: "s"),
            by: "c"
        )
        let after = try store.patch(run.id, RunPatch(links: ["https://c"]), by: "c")
        #expect(after.links == ["https://c"])
        #expect(after.statusLabel == "one")
        #expect(after.summary == "s")
        let labelled = try store.appendLog(run.id, RunLogRequest(message: "x", statusLabel: "two"), by: "c").run
        #expect(labelled.statusLabel == "two")
    }

    @Test("an unknown run is 404 not_found for every route")
    func unknownRun() {
        let store = RunStore()
        let steps: [RunStep] = [.label, .plainLog, .decide(approve: true), .entityWrite]
        for step in steps {
            let error = #expect(throws: PortError.self) { try step.apply(to: store, run: "r_doesnotexist0000") }
            #expect(error?.status == 404)
            #expect(error?.code == "not_found")
        }
        #expect(throws: PortError.self) { try store.logs("r_nope") }
    }

    @Test("200 concurrent PATCH and log requests leave one terminal status and every accepted log")
    func concurrentWrites() async throws {
        let store = RunStore()
        let run = makeRun(store)
        let outcomes = await withTaskGroup(of: (Int, Bool).self) { group in
            for index in 0..<200 {
                group.addTask {
                    let step: RunStep =
                        switch index % 4 {
                        case 0: .log(RunLogRequest(message: "log \(index)"))
                        case 1: .patch(RunPatch(statusLabel: "label \(index)"))
                        case 2:
                            .log(
                                RunLogRequest(
                                    message: "log \(index)",
                                    terminationStatus: index % 8 == 2 ? .success : nil
                                )
                            )
                        default: .patch(RunPatch(status: index == 199 ? .failure : nil, summary: "summary \(index)"))
                        }
                    do {
                        _ = try step.apply(to: store, run: run.id)
                        return (index, true)
                    } catch let error as PortError {
                        #expect(error.code == "run_exhausted")
                        return (index, false)
                    } catch {
                        Issue.record("unexpected error \(error)")
                        return (index, false)
                    }
                }
            }
            return await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
        }
        let final = try store.run(run.id)
        #expect(final.status.isFinished)
        let logs = try store.logs(run.id)
        let acceptedLogIndexes = outcomes.filter { $0.value && [0, 2].contains($0.key % 4) }.map { $0.key }
        #expect(Set(logs.map(\.message)) == Set(acceptedLogIndexes.map { "log \($0)" }))
        #expect(logs.count == acceptedLogIndexes.count)
        // Exactly one accepted request finished the run; everything accepted came before it.
        let accepted = outcomes.values.filter { $0 }.count
        let refused = outcomes.values.filter { !$0 }.count
        #expect(accepted + refused == 200)
        #expect(accepted >= 1)
    }
}

@Suite("Port's request bodies", .timeLimit(.minutes(10)))
struct RunRequestTests {
    @Test(
        "bodies that break Port's schema are 422 invalid_request naming the field",
        arguments: [
            (#"{"status":"IN_PROGRESS"}"#, "body.status must be one of SUCCESS, FAILURE"),
            (#"{"status":"DONE"}"#, "body.status must be one of SUCCESS, FAILURE"),
            (#"{"statusLabel":3}"#, "body.statusLabel must be a string, not integer"),
            (#"{"link":[1]}"#, "body.link[0] must be a string"),
            (#"{"link":{}}"#, "body.link must be a string or an array of strings"),
            (#"{"message":"text"}"#, "body.message must be an object"),
            (#"{"colour":"red"}"#, "body.colour is not allowed"),
            (#"[]"#, "body must be a JSON object, not array"),
        ]
    )
    func invalidPatch(body: String, message: String) throws {
        let error = #expect(throws: PortError.self) { try RunPatch(body: JSONValue.parse(body)) }
        #expect(error?.status == 422)
        #expect(error?.code == "invalid_request")
        #expect(error?.message.hasPrefix(message) == true, "\(error?.message ?? "")")
    }

    @Test("a valid PATCH body reads every field; a single link becomes a list")
    func validPatch() throws {
        let patch = try RunPatch(
            body: JSONValue.parse(
                #"{"status":"SUCCESS","statusLabel":"ok","link":"https://x","summary":"s","externalRunId":"e1","message":{"a":1}}"#
            )
        )
        #expect(
            patch
                == RunPatch(
                    status: .success,
                    statusLabel: "ok",
                    links: ["https://x"],
                    summary: "s",
                    externalRunId: "e1",
                    message: ["a": 1]
                )
        )
    }

    @Test(
        "log and approval bodies are checked the same way",
        arguments: [
            (#"{}"#, "body.message is required"),
            (#"{"message":"m","terminationStatus":"IN_PROGRESS"}"#, "body.terminationStatus must be one of"),
            (#"{"message":"m","level":"INFO"}"#, "body.level is not allowed"),
        ]
    )
    func invalidLog(body: String, message: String) throws {
        let error = #expect(throws: PortError.self) { try RunLogRequest(body: JSONValue.parse(body)) }
        #expect(error?.code == "invalid_request")
        #expect(error?.message.hasPrefix(message) == true, "\(error?.message ?? "")")
    }

    @Test("an approval must say APPROVE or DECLINE")
    func approvalBodies() throws {
        #expect(try ApprovalRequest(body: JSONValue.parse(#"{"status":"APPROVE"}"#)).approve)
        #expect(try !ApprovalRequest(body: JSONValue.parse(#"{"status":"DECLINE","description":"no"}"#)).approve)
        let error = #expect(throws: PortError.self) { try ApprovalRequest(body: JSONValue.parse(#"{"status":"YES"}"#)) }
        #expect(error?.message.contains("APPROVE, DECLINE") == true)
    }
}
