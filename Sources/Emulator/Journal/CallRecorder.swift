import HTTPServer
package import PortContract
package import StateLog
import Synchronization

#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// One API call, as the journal keeps it.
public struct JournalEntry: Sendable, Equatable {
    /// When the response was sent.
    public let time: Date
    /// The client id behind the request's token, if any.
    public let clientID: String?
    /// The request method.
    public let method: String
    /// The request path.
    public let path: String
    /// The response status.
    public let status: Int
    /// The run the call touched, if any.
    public let runID: String?
    /// The injected fault behind this entry, if any: a fault answered or delayed this call,
    /// or (with method `FAULT`) a fault was injected or lifted then.
    public var injected: String?

    /// Creates an entry.
    package init(
        time: Date,
        clientID: String?,
        method: String,
        path: String,
        status: Int,
        runID: String?,
        injected: String? = nil
    ) {
        self.time = time
        self.clientID = clientID
        self.method = method
        self.path = path
        self.status = status
        self.runID = runID
        self.injected = injected
    }
}

/// A request the emulator refused, with the contract rule that refused it.
public struct Violation: Sendable, Equatable {
    /// When it was refused.
    public let time: Date
    /// The client id behind the request's token, if any.
    public let clientID: String?
    /// The request method.
    public let method: String
    /// The request path.
    public let path: String
    /// The run it concerned, if any.
    public let runID: String?
    /// The status answered.
    public let status: Int
    /// Port's error code.
    public let code: String
    /// The contract rule, e.g. `run-locked-after-finish`.
    public let rule: String
    /// Port's message.
    public let message: String
}

/// The journal of API calls and the list of refused requests, each keeping its last
/// ``capacity`` entries: the oldest go first, and how many went is counted, so that an
/// evicted call is never mistaken for one never made.
public final class CallRecorder: Sendable {
    /// The default ``capacity``: a long CI suite's calls, a few tens of MiB.
    public static let defaultCapacity = 100_000

    private struct State {
        var journal = BoundedLog<JournalEntry>()
        var violations = BoundedLog<Violation>()
    }

    private let state = Mutex(State())
    /// How many calls the journal keeps, and how many refusals the violations list keeps.
    public let capacity: Int
    /// Where calls and refusals are recorded (`--state-dir`).
    private let stateLog: StateLog?

    /// Creates an empty recorder keeping the last `capacity` entries of each list (at least
    /// 1), recording each in `stateLog` when given.
    package init(capacity: Int = CallRecorder.defaultCapacity, stateLog: StateLog? = nil) {
        self.capacity = max(1, capacity)
        self.stateLog = stateLog
    }

    /// Records one call.
    package func record(_ entry: JournalEntry) {
        state.withLock { state in
            state.journal.append(entry, capacity: capacity)
            stateLog.record(.journal, "j", ["entry": entry.stateJSON])
        }
    }

    /// Records one refusal.
    package func record(_ violation: Violation) {
        state.withLock { state in
            state.violations.append(violation, capacity: capacity)
            stateLog.record(.journal, "v", ["violation": violation.stateJSON])
        }
    }

    /// The calls kept, oldest first.
    public var journal: [JournalEntry] { state.withLock { Array($0.journal.entries) } }

    /// The refusals kept, oldest first.
    public var violations: [Violation] { state.withLock { Array($0.violations.entries) } }

    /// How many calls were evicted from the journal, and how many refusals from the
    /// violations list, since the start (or the last reset).
    public var evicted: (journal: Int, violations: Int) {
        state.withLock { ($0.journal.evicted, $0.violations.evicted) }
    }

    /// Forgets everything.
    package func reset() {
        state.withLock { state in
            state = State()
            stateLog.record(.journal, StateRecords.reset, [:])
        }
    }

    /// Applies one record of the journal (`--state-dir`'s load). Records nothing.
    package func restore(_ kind: String, _ fields: JSONObject) throws(StateCodecError) {
        let record = try StateFields(.object(fields), "")
        switch kind {
        case "j":
            let entry = try record.nested("entry", JournalEntry.self)
            state.withLock { $0.journal.append(entry, capacity: capacity) }
        case "v":
            let violation = try record.nested("violation", Violation.self)
            state.withLock { $0.violations.append(violation, capacity: capacity) }
        case "evicted":
            let counts = (journal: try record.int("journal"), violations: try record.int("violations"))
            state.withLock { state in
                state.journal.evicted = counts.journal
                state.violations.evicted = counts.violations
            }
        case StateRecords.reset: state.withLock { $0 = State() }
        default: throw StateCodecError(field: "k", reason: "\"\(kind)\" is not a kind of the journal's records")
        }
    }

    /// A copy of the journal and the refusals as records, and the last log record it includes.
    package func stateSection() -> StateSection {
        let (copy, fence) = state.withLock { ($0, stateLog.fence) }
        var records = copy.journal.entries.map { StateRecords.payload(.journal, "j", ["entry": $0.stateJSON]) }
        records += copy.violations.entries.map { StateRecords.payload(.journal, "v", ["violation": $0.stateJSON]) }
        // After the entries: replaying them counts evictions of their own, which this replaces.
        records.append(
            StateRecords.payload(
                .journal,
                "evicted",
                ["journal": .int(Int64(copy.journal.evicted)), "violations": .int(Int64(copy.violations.evicted))]
            )
        )
        return StateSection(store: .journal, fence: fence, records: records)
    }

    /// The run a request touches: the `r_…` (or workflow node run `wfnr_…`) id in its path,
    /// or its `run_id` query parameter (an empty one is no run, as on the write itself).
    static func runID(of request: HTTPRequest) -> String? {
        let segments = request.path.split(separator: "/")
        let id = segments.first { $0.hasPrefix("r_") } ?? segments.first { $0.hasPrefix("wfnr_") }
        return id.map(String.init) ?? runIDQuery(request)
    }
}

extension Violation {
    /// The refusal of `request` with Port's `error`.
    init(refusing request: HTTPRequest, with error: PortError, clientID: String?) {
        self.init(
            time: Date(),
            clientID: clientID,
            method: request.method,
            path: request.path,
            runID: CallRecorder.runID(of: request),
            status: error.status,
            code: error.code,
            rule: error.rule,
            message: error.message
        )
    }

    /// A refusal made by the HTTP layer before any route ran: an unknown path (404), a
    /// method the path does not take (405), a body over 1 MiB (413).
    init(refusedByServer request: HTTPRequest, response: HTTPResponse, clientID: String?) {
        let body = try? JSONValue.parse(response.body)
        let rule =
            switch response.status {
            case 404: "route-exists"
            case 405: "method-allowed"
            case 413: "body-size-limit"
            default: "server-error"
            }
        self.init(
            refusing: request,
            with: PortError(
                status: response.status,
                code: body?["error"]?.stringValue ?? "http_\(response.status)",
                message: body?["message"]?.stringValue ?? "",
                rule: rule
            ),
            clientID: clientID
        )
    }
}
