import Foundation
public import PortContract

extension RunStore {
    /// What a waiter learns: the run when the wait ended, and whether the condition held.
    public struct WaitResult: Sendable {
        /// The run as it was when the wait ended.
        public let run: ActionRun
        /// Whether `until` held (false: the timeout came first).
        public let reached: Bool
    }

    /// Waits until `until` holds for the run, or `timeout` passes; answers at once when it
    /// already holds. An unknown run (or one forgotten by a reset) is 404 `not_found`.
    public func wait(
        for id: String,
        timeout: Duration,
        until condition: @escaping @Sendable (ActionRun) -> Bool
    ) async throws(PortError) -> WaitResult {
        let deadline = ContinuousClock.now + timeout
        while true {
            let run = try self.run(id)
            if condition(run) { return WaitResult(run: run, reached: true) }
            let closing = withState { $0.closing }
            if ContinuousClock.now >= deadline || Task.isCancelled || closing {
                return WaitResult(run: run, reached: false)
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
