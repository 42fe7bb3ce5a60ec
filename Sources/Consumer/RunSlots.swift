import Synchronization

/// Counts the runs in progress: the reader waits for a free slot before it starts another,
/// and a shutdown waits for them all to end. Waits end early when their task is cancelled.
final class RunSlots: Sendable {
    private struct State {
        var active = 0
        var nextWaiter = 0
        /// Readers waiting for a slot, in arrival order; resumed with `false` if cancelled.
        var acquirers: [(id: Int, continuation: CheckedContinuation<Bool, Never>)] = []
        /// Shutdowns waiting for no run to be in progress.
        var idlers: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Takes a slot, waiting while all `limit` are taken; `false` when cancelled first.
    func acquire() async -> Bool {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let granted = state.withLock { state -> Bool? in
                    if Task.isCancelled { return false }
                    guard state.active < limit else {
                        state.acquirers.append((id, continuation))
                        return nil
                    }
                    state.active += 1
                    return true
                }
                if let granted { continuation.resume(returning: granted) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
                guard let index = state.acquirers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.acquirers.remove(at: index).continuation
            }
            waiter?.resume(returning: false)
        }
    }

    /// Gives a slot back: to the next waiting reader, or frees it (waking shutdowns at zero).
    func release() {
        let (acquirer, idlers) = state.withLock {
            state -> (CheckedContinuation<Bool, Never>?, [CheckedContinuation<Void, Never>]) in
            if !state.acquirers.isEmpty { return (state.acquirers.removeFirst().continuation, []) }
            state.active -= 1
            guard state.active == 0 else { return (nil, []) }
            defer { state.idlers = [:] }
            return (nil, Array(state.idlers.values))
        }
        acquirer?.resume(returning: true)
        idlers.forEach { $0.resume() }
    }

    /// Waits until no run is in progress, for at most `limit`; `false` if some still are
    /// (or the waiting task was cancelled).
    func waitUntilIdle(within limit: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await self.idle()
                return true
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first && state.withLock { $0.active == 0 }
        }
    }

    /// Returns once no run is in progress, or at once when cancelled.
    private func idle() async {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = state.withLock { state -> Bool in
                    guard state.active > 0, !Task.isCancelled else { return true }
                    state.idlers[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.idlers.removeValue(forKey: id) }?.resume()
        }
    }
}
