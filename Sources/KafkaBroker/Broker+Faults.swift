package import KafkaProtocol
import KafkaRecords
import Synchronization

/// Faults for resilience tests (the emulator's chaos profiles): errors injected into the
/// next requests of an API, added latency, and nodes taken down.
extension KafkaBroker {
    /// The next `errors.count` requests of `apiKey` are answered with these errors, in order,
    /// and do nothing else.
    package func injectErrors(_ apiKey: Int16, _ errors: [KafkaErrorCode]) {
        state.withLock { $0.injectedErrors[apiKey, default: []].append(contentsOf: errors) }
    }

    /// Forgets the injected errors of every API.
    package func clearInjectedErrors() {
        state.withLock { $0.injectedErrors.removeAll() }
    }

    /// Every answer waits `delay` before it is sent (zero: none).
    package func setRoundTripTime(_ delay: Duration) {
        state.withLock { $0.roundTrip = delay }
    }

    /// Marks `node` down or up; the front closes a down node's connections and refuses new ones.
    package func setNode(_ node: Int32, down: Bool) {
        state.withLock { state in
            if down { state.downNodes.insert(node) } else { state.downNodes.remove(node) }
        }
    }

    /// Whether `node` is down.
    package func isDown(_ node: Int32) -> Bool { state.withLock { $0.downNodes.contains(node) } }

    func takeInjectedError(_ apiKey: Int16) -> KafkaErrorCode? {
        state.withLock { state in
            guard var queue = state.injectedErrors[apiKey], !queue.isEmpty else { return nil }
            let error = queue.removeFirst()
            state.injectedErrors[apiKey] = queue.isEmpty ? nil : queue
            return error
        }
    }

    func delayIfAsked() async {
        let delay = state.withLock { $0.roundTrip }
        if delay > .zero { try? await Task.sleep(for: delay) }
    }
}
