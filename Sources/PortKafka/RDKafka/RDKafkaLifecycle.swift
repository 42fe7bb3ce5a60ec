import Dispatch
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The running → closing → closed lifecycle of a librdkafka client, shared by the producer
/// and the consumer: exactly one caller gets to close it, and the handle is destroyed only
/// once no call that entered through `whileRunning` is still inside it.
final class RDKafkaLifecycle: Sendable {
    private enum Phase {
        case running
        case closing
        case closed
    }

    private struct State {
        var phase = Phase.running
        /// Calls into the handle in progress (entered while running).
        var users = 0
    }

    private let state = Mutex(State())

    /// Whether the client still accepts work.
    var isRunning: Bool { state.withLock { $0.phase == .running } }

    /// Whether the handle has been destroyed.
    var isClosed: Bool { state.withLock { $0.phase == .closed } }

    /// Runs `body` (a call into the handle) only while the client is running, and keeps the
    /// closer from destroying the handle until it returns; `nil` when the client is closing
    /// or closed. The check and the call are one step: no close can come between them.
    func whileRunning<Result>(_ body: () throws -> Result) rethrows -> Result? {
        let entered = state.withLock { state -> Bool in
            guard state.phase == .running else { return false }
            state.users += 1
            return true
        }
        guard entered else { return nil }
        defer { state.withLock { $0.users -= 1 } }
        return try body()
    }

    /// Moves from running to closing; only the first caller gets `true` and must close.
    func beginClosing() -> Bool {
        state.withLock { state in
            guard state.phase == .running else { return false }
            state.phase = .closing
            return true
        }
    }

    /// Blocks the closer (on its own thread, never Swift's pool) until the calls that
    /// entered before closing began have left the handle; none can enter any more.
    func waitForCallsToLeave() {
        while state.withLock({ $0.users }) > 0 { usleep(100) }
    }

    /// Records that the handle has been destroyed.
    func markClosed() {
        state.withLock { $0.phase = .closed }
    }
}

/// Runs blocking librdkafka calls on a dedicated serial queue, off Swift's cooperative thread pool.
struct RDKafkaBlockingQueue: Sendable {
    /// The serial queue the calls run on.
    private let queue: DispatchQueue

    /// Creates a queue of its own, labelled for debugging.
    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    /// Runs `body` on the queue and returns its result to the awaiting task.
    func run<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Swift.Result { try body() }) }
        }
    }

    /// Runs `body` on the queue and blocks the calling thread until it finishes.
    func runAndWait<Result>(_ body: () throws -> Result) rethrows -> Result {
        try queue.sync(execute: body)
    }
}

/// A flag one thread sets and another polls.
final class StopFlag: Sendable {
    /// Whether the flag was raised.
    private let flag = Atomic<Bool>(false)

    /// Raises the flag.
    func set() { flag.store(true, ordering: .releasing) }

    /// Whether the flag was raised.
    var isSet: Bool { flag.load(ordering: .acquiring) }
}
