package import PortContract
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Every invocation the event source mapping made, for `GET /_emulator/lambda` and
/// `verify`'s report: the batch, the outcome, which attempt it was and how long it took.
package final class LambdaInvocationLog: Sendable {
    /// One invocation.
    package struct Entry: Sendable {
        /// 1, 2, … in the order made.
        package var number: Int
        /// 1 for a batch's first invocation, 2 for its first retry…
        package var attempt: Int
        /// `topic-partition@offset` of each record, in order.
        package var records: [String]
        /// The run ids the batch's records carry (`context.runId`).
        package var runIDs: [String]
        /// `success`, `error Type: message`, `timeout`…
        package var outcome: String
        /// Whether the function succeeded.
        package var succeeded: Bool
        /// When it was handed to the runtime (milliseconds since the epoch).
        package var startedAt: Int64 = 0
        /// How long the invocation took.
        package var duration: Duration
        /// What the mapping did next: `committed`, `retrying`, `split`, `discarded after N retries`, `abandoned`.
        package var then: String

        /// The entry as JSON.
        package var json: JSONValue {
            [
                "number": .int(Int64(number)), "attempt": .int(Int64(attempt)),
                "records": .array(records.map(JSONValue.string)), "runIds": .array(runIDs.map(JSONValue.string)),
                "outcome": .string(outcome), "succeeded": .bool(succeeded), "startedAt": .int(startedAt),
                "durationMs": .double(duration.seconds * 1000),
                "then": .string(then),
            ]
        }
    }

    /// Invocations kept: the last 10,000 (the admin API and verify read the recent ones).
    package static let capacity = 10_000

    private struct State {
        var entries = BoundedLog<Entry>()
        var recorded = 0
        var problem: String?
    }

    private let state = Mutex(State())

    /// An empty log.
    package init() {}

    /// Appends an entry (its number is set here) and returns it.
    @discardableResult
    package func record(_ entry: Entry) -> Entry {
        state.withLock { state in
            var entry = entry
            state.recorded += 1
            entry.number = state.recorded
            state.entries.append(entry, capacity: Self.capacity)
            return entry
        }
    }

    /// The entries kept, oldest first (numbered from the first ever recorded).
    package var entries: [Entry] { state.withLock { Array($0.entries.entries) } }

    /// Why the mapping cannot read (Lambda's `LastProcessingResult: PROBLEM: …`), if it cannot.
    package var problem: String? {
        get { state.withLock { $0.problem } }
        set { state.withLock { $0.problem = newValue } }
    }

    /// The run ids in a batch's records: each value's `context.runId` (Port's invocation),
    /// or `runId` at the top level.
    package static func runIDs(in values: [[UInt8]?]) -> [String] {
        values.compactMap { value in
            guard let value, let object = try? JSONValue.parse(value).objectValue else { return nil }
            return object["context"]?.objectValue?["runId"]?.stringValue ?? object["runId"]?.stringValue
        }
    }
}
