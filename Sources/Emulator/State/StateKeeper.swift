package import Logging
import PortContract
import ServiceLifecycle
package import StateLog
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// When `--state-dir`'s records reach the disk (`--state-sync`).
public enum StateSyncPolicy: String, Sendable, CaseIterable {
    /// write(2) before every answer (a `kill -9` loses nothing answered), fdatasync at most
    /// every 100 ms (a power loss loses at most that).
    case batch
    /// write(2) and fdatasync before every answer that follows a change.
    case always
    /// write(2) before every answer, never fdatasync (tmpfs, throw-away state).
    case never
}

/// `serve --state-dir`: opens the state's log, rebuilds the stores from it before anything
/// serves, writes what they record before each answer leaves (``StateFlushMiddleware``), and
/// replaces the log with a snapshot of the stores when it has grown (a compaction).
///
/// A snapshot is the stores' sections (``StateSection``), each with the last log record its
/// copy includes: at load, a store's log records up to that one are skipped, so a compaction
/// needs no lock over all the stores.
package final class StateKeeper: Sendable {
    /// The log every store records in.
    package let log: StateLog
    /// When records are synced.
    package let sync: StateSyncPolicy
    /// A compaction starts when the log since the last one holds this many bytes.
    let compactionBytes: Int
    private let stores: Mutex<Stores?> = Mutex(nil)
    private let status: Mutex<Status>
    private let logger: Logger

    /// The stores a snapshot copies.
    package struct Stores: Sendable {
        let runs: RunStore
        let catalog: Catalog
        let recorder: CallRecorder
        let organization: OrganizationStore
        let secrets: SecretStore
        let clock: EmulatorClock
        let directory: Directory
        let tokens: TokenStore
        /// Set once the automation engine exists (it needs the publisher, made after the load).
        var automations: AutomationEngine?

        var sections: [StateSection] {
            [
                catalog.stateSection(), directory.stateSection(), organization.stateSection(),
                secrets.stateSection(), clock.stateSection(), tokens.stateSection(), runs.stateSection(),
                recorder.stateSection(),
            ] + (automations.map { [$0.stateSection()] } ?? [])
        }
    }

    /// What the load found and what the keeper has done since (`GET /_emulator/state`).
    struct Status: Sendable {
        var loadedSnapshotRecords = 0
        var loadedLogRecords = 0
        var skippedLogRecords = 0
        var loadSeconds = 0.0
        var notes: [String] = []
        var setAside: [String] = []
        var compactions = 0
        var lastCompactionSeconds: Double?
        var failure: String?
        /// The automations' fired timers the load rebuilt, for the engine made after it.
        var firedTimers: [String: String] = [:]
    }

    /// Opens the state in `directory` for `orgID` (created when missing): refuses a state this
    /// build must not read, or one another process uses, before anything is written.
    package static func open(
        _ directory: String,
        orgID: String,
        sync: StateSyncPolicy,
        compactionBytes: Int,
        logger: Logger
    ) throws(StateError) -> (StateKeeper, StateLoad) {
        let (log, load) = try StateLog.open(directory, orgID: orgID)
        let keeper = StateKeeper(log: log, sync: sync, compactionBytes: compactionBytes, logger: logger)
        keeper.status.withLock { status in
            status.notes = load.notes
            status.setAside = load.setAside
        }
        return (keeper, load)
    }

    private init(log: StateLog, sync: StateSyncPolicy, compactionBytes: Int, logger: Logger) {
        self.log = log
        self.sync = sync
        self.compactionBytes = max(1, compactionBytes)
        self.logger = logger
        self.status = Mutex(Status())
    }

    /// Rebuilds `stores` from what `load` read: the snapshot, then the log records that are
    /// not in it. Records nothing. A record that does not decode refuses the start, naming
    /// it: it passed its checksum, so this build cannot read it.
    package func restore(_ load: StateLoad, into stores: Stores) throws(StateError) {
        let started = ContinuousClock.now
        var fences: [String: UInt64] = [:]
        var restoring = stores.runs.restoring()
        var firedTimers: [String: String] = [:]
        var applied = (snapshot: 0, log: 0, skipped: 0)
        func parse(_ record: StateRecord, from source: String) throws(StateError) -> (String, String, JSONObject) {
            guard case .object(var fields)? = try? JSONValue.parse(record.payload),
                case .string(let store)? = fields["s"],
                case .string(let kind)? = fields["k"]
            else {
                throw .unreadable(source, "record \(record.lsn) is not a state record ({\"s\", \"k\", …})")
            }
            fields["s"] = nil
            fields["k"] = nil
            return (store, kind, fields)
        }
        func apply(
            _ record: StateRecord,
            _ parsed: (String, String, JSONObject),
            from source: String
        ) throws(StateError) {
            let (store, kind, fields) = parsed
            if store == "snapshot" {
                for (name, value) in fields["fences"]?.objectValue ?? [:] {
                    if case .int(let lsn) = value { fences[name] = UInt64(max(0, lsn)) }
                }
                return
            }
            do throws(StateCodecError) {
                switch StateStore(rawValue: store) {
                case .runs: try restoring.apply(kind, fields)
                case .catalog: try stores.catalog.restore(kind, fields)
                case .journal: try stores.recorder.restore(kind, fields)
                case .organization: try stores.organization.restore(kind, fields)
                case .secrets: try stores.secrets.restore(kind, fields)
                case .clock: try stores.clock.restore(kind, fields)
                case .directory: try stores.directory.restore(kind, fields)
                case .tokens: try stores.tokens.restore(kind, fields)
                case .timers: try AutomationEngine.restore(kind, fields, into: &firedTimers)
                case nil: throw StateCodecError(field: "s", reason: "\"\(store)\" is not a store this version keeps")
                }
            } catch {
                throw .unreadable(
                    source,
                    "record \(record.lsn) (\(store) \(kind)): \(error); this version cannot read it"
                )
            }
        }
        let snapshotName = log.directory + "/snapshot"
        for record in load.snapshot {
            try apply(record, try parse(record, from: snapshotName), from: snapshotName)
            applied.snapshot += 1
        }
        let logName = log.directory + "/log"
        for record in load.records {
            let parsed = try parse(record, from: logName)
            if let fence = fences[parsed.0], record.lsn <= fence {
                applied.skipped += 1
                continue
            }
            try apply(record, parsed, from: logName)
            applied.log += 1
        }
        stores.runs.restore(restoring, models: stores.catalog.models)
        self.stores.withLock { $0 = stores }
        let seconds = (ContinuousClock.now - started).seconds
        status.withLock { status in
            status.loadedSnapshotRecords = applied.snapshot
            status.loadedLogRecords = applied.log
            status.skippedLogRecords = applied.skipped
            status.loadSeconds = seconds
            status.firedTimers = firedTimers
        }
    }

    /// Hands the automation engine the fired timers the load rebuilt, and includes its
    /// timers in later snapshots.
    func attach(_ automations: AutomationEngine) {
        automations.restore(firedTimers: status.withLock { $0.firedTimers })
        stores.withLock { $0?.automations = automations }
    }

    /// Writes what was recorded (write(2)), and with `--state-sync always` syncs it: before
    /// an answer leaves.
    package func flushBeforeAnswer() throws(StateError) {
        switch sync {
        case .always: try log.sync()
        case .batch, .never: try log.flush()
        }
    }

    /// Writes a snapshot of the stores and deletes the log it replaces.
    package func compact() throws(StateError) {
        guard let stores = stores.withLock({ $0 }) else { return }
        let started = ContinuousClock.now
        let segment = try log.rotate()
        let sections = stores.sections
        var header = JSONObject()
        header["s"] = "snapshot"
        header["k"] = "header"
        header["fences"] = .object(JSONObject(sections.map { ($0.store.rawValue, JSONValue.int(Int64($0.fence))) }))
        header["writer"] = .string(HarnessVersion.current)
        var payloads = [JSONValue.object(header).compactBytes]
        for section in sections { payloads += section.records }
        try log.writeSnapshot(startingSegment: segment, payloads: payloads)
        let seconds = (ContinuousClock.now - started).seconds
        status.withLock { status in
            status.compactions += 1
            status.lastCompactionSeconds = seconds
        }
        logger.debug("state: wrote a snapshot of \(payloads.count) records in \(seconds) s")
    }

    /// Compacts the log the start read, if it holds records; then syncs every 100 ms
    /// (`--state-sync batch`) and compacts when the log has grown, until a graceful shutdown;
    /// then writes and syncs what is left, and compacts a log of more than 1 MiB so that the
    /// next start reads one file.
    package func run() async {
        if log.bytesSinceRotation > 0 { compactLogging() }
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: .milliseconds(100))
                do throws(StateError) {
                    if self.sync == .never { try self.log.flush() } else { try self.log.sync() }
                } catch {
                    self.failed(error)
                }
                if self.log.bytesSinceRotation >= self.compactionBytes { self.compactLogging() }
            }
        }
        do throws(StateError) {
            try log.sync()
            if log.bytesSinceRotation > 1 << 20 { try compact() }
        } catch {
            failed(error)
        }
        do throws(StateError) {
            try log.close()
        } catch {
            failed(error)
        }
    }

    private func compactLogging() {
        do throws(StateError) {
            try compact()
        } catch {
            failed(error)
        }
    }

    private func failed(_ error: StateError) {
        let first = status.withLock { status in
            defer { status.failure = status.failure ?? "\(error)" }
            return status.failure == nil
        }
        if first { logger.error("state: \(error)") }
    }

    /// The state's directory, its policy, what the load found and what was done since.
    var json: JSONValue {
        let status = status.withLock { $0 }
        return [
            "directory": .string(log.directory), "sync": .string(sync.rawValue),
            "loaded": [
                "snapshotRecords": .int(Int64(status.loadedSnapshotRecords)),
                "logRecords": .int(Int64(status.loadedLogRecords)),
                "skippedLogRecords": .int(Int64(status.skippedLogRecords)), "seconds": .double(status.loadSeconds),
                "notes": .array(status.notes.map(JSONValue.string)),
                "setAside": .array(status.setAside.map(JSONValue.string)),
            ],
            "segment": .int(Int64(log.segment)), "bytesSinceSnapshot": .int(Int64(log.bytesSinceRotation)),
            "compactions": .int(Int64(status.compactions)),
            "lastCompactionSeconds": status.lastCompactionSeconds.map(JSONValue.double) ?? .null,
            "failure": status.failure.map(JSONValue.string) ?? .null,
        ]
    }
}
