import Emulator
import Logging
import PortContract
import PortKafka
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Readiness: when the consumer under test counts as ready, from its output or its first call.
extension Verifier {

    /// With a ready pattern: waits for it in the consumer's output. Returns why the consumer
    /// is not ready, or nil.
    func waitForReadyLine(_ consumer: ConsumerProcess, from offset: Int = 0) async -> String? {
        guard let pattern = options.readyPattern else {
            state.withLock { $0.readiness = "ready at its first call to Port's API (no --ready-log given)" }
            return nil
        }
        guard let expression = try? Regex(pattern).matchingSemantics(.unicodeScalar) else {
            return "--ready-log \(pattern) is not a valid regular expression"
        }
        let deadline = ContinuousClock.now + options.startupTimeout
        var lastNotice = ContinuousClock.now
        while ContinuousClock.now < deadline {
            let log = consumer.log(from: offset)
            if log.contains(expression) {
                let after = ContinuousClock.now - started
                state.withLock {
                    $0.readyAt = .now
                    $0.readiness = "ready after \(VerifyReport.seconds(after)): its output matched /\(pattern)/"
                }
                note("consumer ready \(offset > 0 ? "again" : "") after \(VerifyReport.seconds(after))")
                return nil
            }
            if !consumer.isRunning {
                return "the consumer exited before it was ready (\(consumer.exits.last?.description ?? "unknown")): "
                    + tail(consumer)
            }
            if ContinuousClock.now - lastNotice > .seconds(5) {
                lastNotice = .now
                progress("… waiting for the consumer to print /\(pattern)/")
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return "the consumer never printed /\(pattern)/ within \(DurationText.format(options.startupTimeout)): "
            + tail(consumer)
    }

    var isReady: Bool { state.withLock { $0.readyAt != nil } }

    /// Notes the consumer ready when it has called Port's API (without a ready pattern).
    func checkFirstCall(_ journal: [JournalLine]) {
        guard !isReady, let first = journal.first(where: \.isConsumerCall) else { return }
        let after = first.time.timeIntervalSince(Date()) + (ContinuousClock.now - started).seconds
        state.withLock {
            $0.readyAt = .now
            $0.readiness = cFormat("ready after %.2fs: its first call to Port's API", after)
        }
        note(cFormat("consumer ready: first call to Port's API after %.2fs", after))
    }
}
