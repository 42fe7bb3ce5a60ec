package import HTTPServer
public import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension RunStore {
    /// What a waiter learns: the run when the wait ended, and whether the condition held.
    public struct WaitResult: Sendable {
        /// The run as it was when the wait ended.
        public let run: ActionRun
        /// Whether `until` held (false: the timeout came first).
        public let reached: Bool
        /// The run's logs when the wait ended, oldest first (read with the run: once the
        /// wait ends, a finished run may be evicted).
        public let logs: [RunLog]
    }

    /// Waits until `until` holds for the run, or `timeout` passes; answers at once when it
    /// already holds. An unknown run (or one forgotten by a reset) is 404 `not_found`.
    public func wait(
        for id: String,
        timeout: Duration,
        until condition: @escaping @Sendable (ActionRun) -> Bool
    ) async throws(PortError) -> WaitResult {
        let deadline = ContinuousClock.now + timeout
        // A waited run is not evicted; once the wait ends, it may be.
        hold([id])
        defer { release([id]) }
        while true {
            let (found, logs, closing) = withState { ($0.runs[id], $0.logs[id] ?? [], $0.closing) }
            guard let run = found else { throw .runNotFound(id) }
            if condition(run) { return WaitResult(run: run, reached: true, logs: logs) }
            if ContinuousClock.now >= deadline || Task.isCancelled || closing {
                return WaitResult(run: run, reached: false, logs: logs)
            }
            await nextChange(of: id, after: run.version, before: deadline)
        }
    }

    /// Returns when the run's version passes `version`, at the deadline, or on cancellation.
    private func nextChange(of id: String, after version: Int, before deadline: ContinuousClock.Instant) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.changeSignal(of: id, after: version) }
            group.addTask { try? await Task.sleep(until: deadline) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Suspends until the run changes past `version` (at once if it already has, or is gone).
    private func changeSignal(of id: String, after version: Int) async {
        let number = withState { state in
            state.nextWatcher += 1
            return state.nextWatcher
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                withState { state in
                    guard let run = state.runs[id], run.version == version, !Task.isCancelled, !state.closing else {
                        state.woken.append(continuation)
                        return
                    }
                    state.watchers[id, default: [:]][number] = continuation
                }
            }
        } onCancel: {
            // Resumed by withState, after the lock is released.
            withState { state in
                if let watcher = state.watchers[id]?.removeValue(forKey: number) { state.woken.append(watcher) }
            }
        }
    }
}

extension RunStore {
    /// Keeps these runs from eviction until as many ``release(_:)``s (a caller waiting on
    /// several runs holds them all while it waits on each).
    package func hold(_ ids: [String]) {
        withState { state in for id in ids { state.waits[id, default: 0] += 1 } }
    }

    /// The header of a request that creates a run held from its creation, until
    /// `POST /_emulator/runs/release` (verify's triggers: it judges each run as it ended,
    /// whatever `--max-finished-runs` evicts meanwhile).
    package static let holdHeader = "X-Port-Emulator-Hold-Runs"

    /// Holds the run `request` created when it asks for it (``holdHeader``).
    package func holdIfAsked(_ id: String, by request: HTTPRequest) {
        if request.header(Self.holdHeader) != nil { hold([id]) }
    }

    /// Ends one ``hold(_:)`` of these runs; past the capacity, finished ones may go now.
    package func release(_ ids: [String]) {
        withState { state in
            for id in ids {
                state.waits[id, default: 1] -= 1
                if state.waits[id] == 0 { state.waits[id] = nil }
            }
            state.evictFinished(keeping: finishedRunCapacity)
        }
    }

    /// Ends every wait now and every later one at once (the emulator is stopping).
    package func endWaits() {
        withState { state in
            state.closing = true
            state.woken += state.watchers.values.flatMap(\.values)
            state.watchers = [:]
        }
    }

    /// How many waits are parked on the run (for tests and the admin API).
    package func watcherCount(of id: String) -> Int {
        withState { $0.watchers[id]?.count ?? 0 }
    }
}
