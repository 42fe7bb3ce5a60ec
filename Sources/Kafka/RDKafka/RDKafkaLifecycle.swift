import Synchronization

/// The running → closing → closed lifecycle of a librdkafka client, shared by the producer
/// and the consumer: exactly one caller gets to close it.
final class RDKafkaLifecycle: Sendable {
    private enum State {
        case running
        case closing
        case closed
    }

    private let state = Mutex(State.running)

    /// Whether the client still accepts work.
    var isRunning: Bool { state.withLock { $0 == .running } }

    /// Whether the handle has been destroyed.
    var isClosed: Bool { state.withLock { $0 == .closed } }

    /// Moves from running to closing; only the first caller gets `true` and must close.
    func beginClosing() -> Bool {
        state.withLock { state in
            guard state == .running else { return false }
            state = .closing
            return true
        }
    }

    /// Records that the handle has been destroyed.
    func markClosed() {
        state.withLock { $0 = .closed }
    }
}
