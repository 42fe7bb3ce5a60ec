import Synchronization

#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
package import Foundation
#endif

/// The emulator's own clock, which tests drive with `POST /_emulator/clock`: real time plus
/// an offset. Timer properties and polling's visibility timeouts read it, and nothing else
/// (runs, logs and tokens keep real time), so a test of a one-hour TTL takes milliseconds.
package final class EmulatorClock: Sendable {
    private let offset = Mutex<TimeInterval>(0)

    /// A clock that reads real time until moved.
    package init() {}

    /// The clock's time.
    package func now() -> Date { Date().addingTimeInterval(offset.withLock { $0 }) }

    /// Moves the clock forward by `duration`; returns the new time.
    @discardableResult
    package func advance(by duration: Duration) -> Date {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        offset.withLock { $0 += seconds }
        return now()
    }

    /// Sets the clock to `time` (earlier than real time too); it goes on ticking from there.
    @discardableResult
    package func set(_ time: Date) -> Date {
        offset.withLock { $0 = time.timeIntervalSinceNow }
        return now()
    }

    /// How far the clock is from real time, in seconds.
    package var offsetSeconds: TimeInterval { offset.withLock { $0 } }

    /// Back to real time (`POST /_emulator/reset`).
    package func reset() { offset.withLock { $0 = 0 } }
}
