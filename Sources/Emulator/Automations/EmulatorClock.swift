import Foundation
import Synchronization

/// The emulator's own clock, which tests drive with `POST /_emulator/clock`: real time plus
/// an offset. Timer properties and polling's visibility timeouts read it, and nothing else
/// (runs, logs and tokens keep real time), so a test of a one-hour TTL takes milliseconds.
public final class EmulatorClock: Sendable {
    private let offset = Mutex<TimeInterval>(0)

    /// A clock that reads real time until moved.
    public init() {}

    /// The clock's time.
    public func now() -> Date { Date().addingTimeInterval(offset.withLock { $0 }) }

    /// Moves the clock forward by `duration`; returns the new time.
    @discardableResult
    public func advance(by duration: Duration) -> Date {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        offset.withLock { $0 += seconds }
        return now()
    }

    /// Sets the clock to `time` (earlier than real time too); it goes on ticking from there.
    @discardableResult
    public func set(_ time: Date) -> Date {
        offset.withLock { $0 = time.timeIntervalSinceNow }
        return now()
    }

    /// How far the clock is from real time, in seconds.
    public var offsetSeconds: TimeInterval { offset.withLock { $0 } }

    /// Back to real time (`POST /_emulator/reset`).
    public func reset() { offset.withLock { $0 = 0 } }
}
