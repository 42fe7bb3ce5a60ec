package import PortContract
import StateLog

/// The stores whose changes `--state-dir` keeps, as their records name them (`"s"`).
package enum StateStore: String, Sendable, CaseIterable {
    /// Entities, runs, their logs and what they changed (``RunStore``).
    case runs
    /// Blueprints, scorecards, actions and permissions (``Catalog``), one record for all.
    case catalog
    /// The journal of calls and the refusals (``CallRecorder``).
    case journal
    /// The organization's name and settings.
    case organization = "org"
    /// The secrets' names and descriptions: never their values.
    case secrets
    /// The emulator clock's offset.
    case clock
    /// Teams and users (``Directory``), one record for all.
    case directory
    /// The access tokens issued, so that a consumer's token still works after a restart.
    case tokens
    /// The automations' timers that fired, so that one fires once across restarts.
    case timers
}

extension Optional where Wrapped == StateLog {
    /// Appends a record of `store`'s change of kind `kind` to the state log, when there is
    /// one: without `--state-dir` the record is never built. Stores call it under their own
    /// lock, so that the log keeps their changes' order.
    func record(_ store: StateStore, _ kind: String, _ body: @autoclosure () -> JSONObject) {
        guard let log = self else { return }
        log.append(StateRecords.payload(store, kind, body()))
    }

    /// The sequence number of the last record, or 0 without a log: read under a store's lock
    /// beside a copy of its state, it says which records that copy already holds.
    var fence: UInt64 { self?.lastLSN ?? 0 }
}

/// The shape of a state record's payload: `{"s": store, "k": kind, …body}`.
package enum StateRecords {
    /// The payload of a record of `store`'s change `kind`.
    package static func payload(_ store: StateStore, _ kind: String, _ body: JSONObject) -> [UInt8] {
        var object = body
        object["s"] = .string(store.rawValue)
        object["k"] = .string(kind)
        return JSONValue.object(object).compactBytes
    }

    /// The kind every store understands: back to the fixtures (`POST /_emulator/reset`).
    package static let reset = "reset"
}

/// A store's state as a snapshot holds it: its records, and the sequence number of the last
/// log record they already include (the store's later records are applied on top).
package struct StateSection: Sendable {
    /// The store.
    package var store: StateStore
    /// The last log record the copy includes.
    package var fence: UInt64
    /// The records that rebuild the copy, in order (payloads).
    package var records: [[UInt8]]
}
