import DequeModule
import PortCatalog
public import PortContract
package import StateLog
import Synchronization

#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
package import Foundation
#endif

/// Runs and their logs, and the state machine Port enforces on them.
///
/// `IN_PROGRESS` or `WAITING_FOR_APPROVAL` lead to `SUCCESS`, `FAILURE` or `DECLINED`;
/// once finished a run is locked and every further write is refused with Port's error.
/// All methods are synchronous and take one short lock, so HTTP handlers can call them
/// from the I/O thread; concurrent requests on one run are applied one at a time.
///
/// Finished runs are kept up to ``finishedRunCapacity``: past it the oldest finished run
/// goes, with its logs and message, and ``evictedRuns`` counts it. A run in progress or
/// waiting for approval, or one a caller is waiting on, is never evicted.
public final class RunStore: Sendable {
    /// The default ``finishedRunCapacity``: a long CI suite's runs.
    public static let defaultFinishedRunCapacity = 10_000

    struct State {
        var runs: [String: ActionRun] = [:]
        /// Run ids, oldest first; an evicted run's id stays until the next compaction.
        var order: [String] = []
        /// The ids in `order` of evicted runs (until the next compaction).
        var staleInOrder: Set<String> = []
        /// Finished runs, in the order they finished: the eviction order.
        var finished = Deque<String>()
        /// How many finished runs were evicted.
        var evictedRuns = 0
        /// Waits in progress, by run id: a waited run is not evicted.
        var waits: [String: Int] = [:]
        var logs: [String: [RunLog]] = [:]
        /// Entities by blueprint, then by identifier.
        var entities = EntityStore()
        /// Tasks waiting for a run to change, by run id and waiter number.
        var watchers: [String: [Int: CheckedContinuation<Void, Never>]] = [:]
        var nextWatcher = 0
        /// Set when the emulator stops: waits end at once.
        var closing = false
        /// The fixtures' entities, which a reset goes back to.
        var seed = EntityStore()
        /// Waiters to resume once the lock is released (see `withState`).
        var woken: [CheckedContinuation<Void, Never>] = []
        /// Where changes are recorded (`--state-dir`), under this lock.
        var stateLog: StateLog?

        /// Counts a change of the run and wakes whoever waits for one.
        mutating func changed(_ id: String) {
            runs[id]?.version += 1
            woken += watchers.removeValue(forKey: id)?.values ?? [:].values
        }
    }

    private let state: Mutex<State>
    /// How many finished runs are kept.
    public let finishedRunCapacity: Int

    /// Runs `body` under the store's lock, then resumes the waiters it woke, after the lock
    /// is released. Never under it: a waiter's cancellation handler takes this lock while
    /// the runtime holds its task's status lock, and resuming a continuation takes that
    /// status lock, so resuming under this lock can deadlock the two threads.
    func withState<Result, Failure: Error>(
        _ body: (inout State) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        let (result, woken) = state.withLock {
            state -> (Swift.Result<Result, Failure>, [CheckedContinuation<Void, Never>]) in
            let result: Swift.Result<Result, Failure>
            do throws(Failure) {
                result = .success(try body(&state))
            } catch {
                result = .failure(error)
            }
            defer { state.woken = [] }
            return (result, state.woken)
        }
        for waiter in woken { waiter.resume() }
        return try result.get()
    }
    let now: @Sendable () -> Date
    /// Told of every run created (`before` nil) and changed, outside the lock. The closure
    /// sits in a struct: a bare closure in a `Mutex` is re-abstracted on every `withLock`
    /// and grows a thunk each time, until calling it overflows the stack.
    private struct Observer: Sendable {
        let body: @Sendable (_ before: ActionRun?, _ after: ActionRun) -> Void
    }

    private let observer = Mutex<Observer?>(nil)

    /// Calls `body` after every run created (`before` nil) and every change of a run, in
    /// the order they happen on that run, outside the store's lock (it may write to the store).
    package func observeRuns(_ body: @escaping @Sendable (_ before: ActionRun?, _ after: ActionRun) -> Void) {
        observer.withLock { $0 = Observer(body: body) }
    }

    private func notify(before: ActionRun?, after: ActionRun) {
        observer.withLock { $0 }?.body(before, after)
    }

    /// Creates an empty store; `now` is the clock for timestamps; at most
    /// `finishedRunCapacity` finished runs are kept (at least 1); every change is recorded
    /// in `stateLog`, when given.
    package init(
        now: @escaping @Sendable () -> Date = { Date() },
        finishedRunCapacity: Int = RunStore.defaultFinishedRunCapacity,
        stateLog: StateLog? = nil
    ) {
        self.now = now
        self.finishedRunCapacity = max(1, finishedRunCapacity)
        var initial = State()
        initial.stateLog = stateLog
        state = Mutex(initial)
    }

    /// How many finished runs were evicted since the start (or the last reset).
    public var evictedRuns: Int { withState { $0.evictedRuns } }

    /// Creates a run: `WAITING_FOR_APPROVAL` when the action requires approval, else `IN_PROGRESS`.
    @discardableResult
    package func create(_ request: NewRun) -> ActionRun {
        while true {
            // 62^16 ids: a taken one is next to impossible, but never fatal.
            if let run = try? create(request, id: PortIdentifier.make(prefix: "r_")) { return run }
        }
    }

    /// Creates a run with a given id (a raw invocation's); an id in use is 409 `identifier_taken`.
    @discardableResult
    package func create(_ request: NewRun, id: String) throws(PortError) -> ActionRun {
        let timestamp = now()
        let run = ActionRun(
            id: id,
            status: request.requiredApproval ? .waitingForApproval : .inProgress,
            request: request,
            createdAt: timestamp,
            updatedAt: timestamp,
            updatedBy: request.createdBy
        )
        try withState { (state) throws(PortError) in
            guard state.runs[run.id] == nil else { throw .identifierTaken(run.id) }
            // An evicted run's id given again: its stale place in the order goes first.
            if state.staleInOrder.contains(run.id) { state.compactOrder() }
            state.runs[run.id] = run
            state.order.append(run.id)
            state.logs[run.id] = []
            state.stateLog.record(.runs, "run", ["run": run.stateJSON])
        }
        notify(before: nil, after: run)
        return run
    }

    /// The run with this id, or 404 `not_found`.
    public func run(_ id: String) throws(PortError) -> ActionRun {
        guard let run = withState({ $0.runs[id] }) else { throw .runNotFound(id) }
        return run
    }

    /// Every run, oldest first.
    public var runs: [ActionRun] {
        withState { state in state.order.compactMap { state.runs[$0] } }
    }

    /// Applies a PATCH: each named field replaces the run's; a status finishes the run.
    package func patch(_ id: String, _ patch: RunPatch, by client: String) throws(PortError) -> ActionRun {
        try update(id, by: client) { run throws(PortError) in
            if patch.status != nil, run.request.synchronized { throw .runSynchronized }
            if let statusLabel = patch.statusLabel { run.statusLabel = statusLabel }
            if let links = patch.links { run.links = links }
            if let summary = patch.summary { run.summary = summary }
            if let externalRunId = patch.externalRunId { run.externalRunId = externalRunId }
            if let message = patch.message { run.message = message }
            if let status = patch.status { finish(&run, as: status.runStatus) }
        }
    }

    /// Adds a log line; a `terminationStatus` finishes the run.
    package func appendLog(
        _ id: String,
        _ request: RunLogRequest,
        by client: String
    ) throws(PortError) -> (log: RunLog, run: ActionRun) {
        try appendLog(id, request, by: client, bypassingSynchronization: false)
    }

    private func appendLog(
        _ id: String,
        _ request: RunLogRequest,
        by client: String,
        bypassingSynchronization: Bool
    ) throws(PortError) -> (log: RunLog, run: ActionRun) {
        var created: RunLog?
        let run = try update(id, by: client) { run throws(PortError) in
            if request.terminationStatus != nil, run.request.synchronized, !bypassingSynchronization {
                throw .runSynchronized
            }
            let log = RunLog(
                id: PortIdentifier.make(prefix: "log_"),
                runId: id,
                message: request.message,
                createdBy: client,
                createdAt: run.updatedAt
            )
            created = log
            if let statusLabel = request.statusLabel { run.statusLabel = statusLabel }
            if let status = request.terminationStatus { finish(&run, as: status.runStatus) }
        } afterUpdate: { state in
            if let created {
                state.logs[id, default: []].append(created)
                state.stateLog.record(.runs, "log", ["log": created.stateJSON])
            }
        }
        return (created!, run)
    }

    /// The run's logs, oldest first.
    public func logs(_ id: String) throws(PortError) -> [RunLog] {
        guard let logs = withState({ $0.logs[id] }) else { throw .runNotFound(id) }
        return logs
    }

    /// Approves (the run starts: `IN_PROGRESS`) or declines (`DECLINED`, finished) a waiting run.
    package func decide(_ id: String, _ decision: ApprovalRequest, by client: String) throws(PortError) -> ActionRun {
        try update(id, by: client) { run throws(PortError) in
            guard run.status == .waitingForApproval else { throw .runNotWaitingForApproval }
            var approval: JSONObject = ["status": .string(decision.approve ? "APPROVED" : "DECLINED")]
            approval["description"] = decision.description.map(JSONValue.string)
            approval["by"] = .string(client)
            run.approval = approval
            if decision.approve {
                run.status = .inProgress
            } else {
                finish(&run, as: .declined)
            }
        }
    }

    /// Who the emulator's own logs and status changes are by.
    package static let emulatorAuthor = "port-emulator"

    /// Ends a run that is not finished as `FAILURE` with a log giving `reason` (the
    /// emulator's own failures: an invocation it could not render or publish).
    package func fail(_ id: String, reason: String) {
        _ = try? appendLog(
            id,
            RunLogRequest(message: reason, terminationStatus: .failure, statusLabel: "Invocation failed"),
            by: Self.emulatorAuthor,
            bypassingSynchronization: true
        )
    }

    /// Notes where the run's invocation landed on Kafka (not a change of the run: waiters
    /// are not woken).
    package func recordDelivery(_ id: String, _ delivery: RunDelivery) {
        withState { state in
            guard var run = state.runs[id] else { return }
            run.delivery = delivery
            state.runs[id] = run
            state.stateLog.record(.runs, "run", ["run": run.stateJSON])
        }
    }

    /// Stores the response of a synchronized webhook run (port-agent's `PATCH …/response`).
    package func setResponse(_ id: String, _ response: JSONValue, by client: String) throws(PortError) -> ActionRun {
        try update(id, by: client) { run throws(PortError) in run.response = response }
    }

    /// Checks that an entity write may carry `run_id`: the run exists and is not finished.
    package func checkAcceptsEntityWrites(_ id: String) throws(PortError) {
        try withState { (state) throws(PortError) in try state.checkAcceptsEntityWrites(id) }
    }

    /// Forgets every run, log and entity (waiters are woken and find their run gone).
    package func reset() {
        withState { state in
            let watchers = state.watchers.values.flatMap(\.values)
            let seed = state.seed
            let stateLog = state.stateLog
            state = State()
            state.seed = seed
            state.entities = seed
            state.woken = watchers
            state.stateLog = stateLog
            stateLog.record(.runs, StateRecords.reset, [:])
        }
    }

    /// Applies `change` to a run that is not finished, under the lock, stamping who and when.
    private func update(
        _ id: String,
        by client: String,
        _ change: (inout ActionRun) throws(PortError) -> Void,
        afterUpdate: (inout State) -> Void = { _ in }
    ) throws(PortError) -> ActionRun {
        let timestamp = now()
        let (before, after) = try withState { (state) throws(PortError) -> (ActionRun, ActionRun) in
            guard var run = state.runs[id] else { throw .runNotFound(id) }
            guard !run.isLocked else { throw .runExhausted }
            let before = run
            run.updatedAt = timestamp
            run.updatedBy = client
            try change(&run)
            state.runs[id] = run
            afterUpdate(&state)
            state.changed(id)
            let after = state.runs[id] ?? run
            state.stateLog.record(.runs, "run", ["run": after.stateJSON])
            if !before.isLocked, after.isLocked {
                state.finished.append(id)
                state.evictFinished(keeping: finishedRunCapacity)
            }
            return (before, after)
        }
        notify(before: before, after: after)
        return after
    }

    private func finish(_ run: inout ActionRun, as status: RunStatus) {
        run.status = status
        run.endedAt = run.updatedAt
    }
}

extension RunStore.State {
    /// Evicts the oldest finished runs past `capacity`, but none that is waited on.
    mutating func evictFinished(keeping capacity: Int) {
        var excess = finished.count - capacity
        guard excess > 0 else { return }
        var waited = Deque<String>()
        while excess > 0, let id = finished.popFirst() {
            // A parked watcher is always inside a wait, which holds its run.
            if waits[id, default: 0] > 0 {
                waited.append(id)
                continue
            }
            if runs.removeValue(forKey: id) != nil {
                logs[id] = nil
                evictedRuns += 1
                staleInOrder.insert(id)
                stateLog.record(.runs, "run-", ["id": .string(id)])
            }
            excess -= 1
        }
        finished.prepend(contentsOf: waited)
        if staleInOrder.count > order.count / 2 { compactOrder() }
    }

    /// Drops evicted runs' ids from `order`.
    mutating func compactOrder() {
        order.removeAll { runs[$0] == nil }
        staleInOrder = []
    }
}
