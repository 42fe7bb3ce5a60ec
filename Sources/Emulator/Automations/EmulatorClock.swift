package import PortContract
package import StateLog
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
    /// Where its moves are recorded (`--state-dir`).
    private let stateLog: StateLog?

    /// A clock that reads real time until moved; its moves are recorded in `stateLog`.
    package init(stateLog: StateLog? = nil) {
        self.stateLog = stateLog
    }

    /// Changes the offset under its lock, and records the new one.
    private func move(_ change: (inout TimeInterval) -> Void) {
        offset.withLock { offset in
            change(&offset)
            stateLog.record(.clock, "clock", ["offset": .double(offset)])
        }
    }

    /// Applies one record of the clock (`--state-dir`'s load). Records nothing.
    package func restore(_ kind: String, _ fields: JSONObject) throws(StateCodecError) {
        guard kind == "clock" else {
            throw StateCodecError(field: "k", reason: "\"\(kind)\" is not a kind of the clock's records")
        }
        let seconds: TimeInterval
        switch fields["offset"] {
        case .double(let value)?: seconds = value
        case .int(let value)?: seconds = TimeInterval(value)
        default: throw StateCodecError(field: "clock.offset", reason: "not a number of seconds")
        }
        offset.withLock { $0 = seconds }
    }

    /// The offset as one record, and the last log record it includes.
    package func stateSection() -> StateSection {
        let (seconds, fence) = offset.withLock { ($0, stateLog.fence) }
        return StateSection(
            store: .clock,
            fence: fence,
            records: [StateRecords.payload(.clock, "clock", ["offset": .double(seconds)])]
        )
    }

    /// The clock's time.
    package func now() -> Date { Date().addingTimeInterval(offset.withLock { $0 }) }

    /// Moves the clock forward by `duration`; returns the new time.
    @discardableResult
    package func advance(by duration: Duration) -> Date {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        move { $0 += seconds }
        return now()
    }

    /// Sets the clock to `time` (earlier than real time too); it goes on ticking from there.
    @discardableResult
    package func set(_ time: Date) -> Date {
        move { $0 = time.timeIntervalSinceNow }
        return now()
    }

    /// How far the clock is from real time, in seconds.
    package var offsetSeconds: TimeInterval { offset.withLock { $0 } }

    /// Back to real time (`POST /_emulator/reset`).
    package func reset() { move { $0 = 0 } }
}
