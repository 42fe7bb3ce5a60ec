package import PortContract
import Synchronization

#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
package import Foundation
#endif

/// One node run of a workflow run (`wfnr_` + 16).
package struct WorkflowNodeRun: Sendable, Equatable {
    /// `IN_PROGRESS` or `COMPLETED`.
    package enum Status: String, Sendable {
        /// Started, or reported as still going.
        case inProgress = "IN_PROGRESS"
        /// Reported done with a result; the node run is locked.
        case completed = "COMPLETED"
    }
    /// How a completed node ended.
    package enum Result: String, Sendable, CaseIterable {
        /// The node did its work.
        case success = "SUCCESS"
        /// The node failed.
        case failed = "FAILED"
        /// The node was cancelled.
        case cancelled = "CANCELLED"
    }

    /// `wfnr_` and 16 alphanumerics.
    package let id: String
    /// The workflow run it belongs to.
    package let workflowRunID: String
    /// The node.
    package let node: String
    /// Where it stands.
    package var status: Status
    /// Set when it is completed.
    package var result: Result?
    /// What the node produced.
    package var output: JSONObject = [:]
    /// The consumer's own id for it.
    package var externalRunID: String?
    /// Links, replaced as a whole by each PATCH that names them.
    package var links: [String] = []
    /// Its logs: level and message.
    package var logs: [(level: String, message: String, at: Date)] = []
    /// When it was created.
    package let createdAt: Date
    /// When it last changed.
    package var updatedAt: Date

    /// The node run as the API returns it.
    package var json: JSONValue {
        [
            "id": .string(id), "workflowRunId": .string(workflowRunID), "node": .string(node),
            "status": .string(status.rawValue), "result": result.map { .string($0.rawValue) } ?? .null,
            "output": .object(output), "externalRunId": externalRunID.map(JSONValue.string) ?? .null,
            "links": .array(links.map(JSONValue.string)),
            "logs": .array(
                logs.map {
                    [
                        "level": .string($0.level), "message": .string($0.message),
                        "createdAt": PortTimestamp.format($0.at),
                    ]
                }
            ),
            "createdAt": PortTimestamp.format(createdAt), "updatedAt": PortTimestamp.format(updatedAt),
        ]
    }

    /// Node runs are equal when they show the same JSON.
    package static func == (lhs: WorkflowNodeRun, rhs: WorkflowNodeRun) -> Bool {
        lhs.json == rhs.json
    }
}

/// A `PATCH` of a node run: `{"status": IN_PROGRESS|COMPLETED, "result"?, "output"?,
/// "externalRunId"?, "links"?}`; `result` is required with `COMPLETED`.
package struct NodeRunPatch: Sendable, Equatable {
    /// The new status.
    package var status: WorkflowNodeRun.Status?
    /// The result (with COMPLETED).
    package var result: WorkflowNodeRun.Result?
    /// The output, replacing the node's.
    package var output: JSONObject?
    /// The consumer's own id.
    package var externalRunID: String?
    /// Links, replacing the node's.
    package var links: [String]?

    /// Creates a patch.
    package init(status: WorkflowNodeRun.Status? = nil, result: WorkflowNodeRun.Result? = nil) {
        self.status = status
        self.result = result
    }

    /// Reads a body; a wrong or unknown field is 422 `invalid_request` naming it.
    package init(body: JSONValue) throws(PortError) {
        let object = try body.object(allowing: ["status", "result", "output", "externalRunId", "links"])
        if let value = object["status"] {
            guard let status = value.stringValue.flatMap(WorkflowNodeRun.Status.init(rawValue:)) else {
                throw .invalidRequest("body.status must be IN_PROGRESS or COMPLETED (got \(value.compactText))")
            }
            self.status = status
        }
        if let value = object["result"] {
            guard let result = value.stringValue.flatMap(WorkflowNodeRun.Result.init(rawValue:)) else {
                throw .invalidRequest("body.result must be SUCCESS, FAILED or CANCELLED (got \(value.compactText))")
            }
            self.result = result
        }
        if status == .completed, result == nil {
            throw .invalidRequest(
                "body.result is required when body.status is COMPLETED",
                rule: "node-result-with-completed"
            )
        }
        if let value = object["output"] {
            guard let output = value.objectValue else { throw .invalidRequest("body.output must be an object") }
            self.output = output
        }
        if let value = object["externalRunId"] {
            guard let text = value.stringValue else { throw .invalidRequest("body.externalRunId must be a string") }
            externalRunID = text
        }
        if let value = object["links"] {
            guard let items = value.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
                throw .invalidRequest("body.links must be an array of strings")
            }
            links = items.compactMap(\.stringValue)
        }
    }
}

/// Workflow runs and their node runs, with the rule that COMPLETED locks a node run.
///
/// The last ``defaultCapacity`` workflow runs are kept: past that, the oldest one whose node
/// runs are all COMPLETED goes with them (404 after), as the finished action runs do. A run
/// with a node still in progress is never dropped.
package final class WorkflowRuns: Sendable {
    /// Workflow runs kept: as many as the finished action runs.
    package static let defaultCapacity = 10_000

    /// A workflow run: its nodes and, once every KAFKA node is completed, its result.
    package struct Run: Sendable {
        /// `wfr_` and 16 alphanumerics.
        package let id: String
        /// The workflow.
        package let workflow: String
        /// The trigger's inputs, defaults filled in.
        package let inputs: JSONObject
        /// Who triggered it.
        package let triggeredBy: String
        /// When.
        package let createdAt: Date
        /// The node runs, in node order.
        package var nodeRunIDs: [String]
    }

    private struct State {
        var runs: [String: Run] = [:]
        var nodeRuns: [String: WorkflowNodeRun] = [:]
        /// Run ids, oldest first.
        var order: [String] = []

        /// Drops the oldest runs whose node runs are all completed, down to `capacity`.
        mutating func evict(to capacity: Int) {
            while runs.count > capacity,
                let index = order.firstIndex(where: { id in
                    runs[id]?.nodeRunIDs.allSatisfy { nodeRuns[$0]?.status != .inProgress } ?? true
                })
            {
                let id = order.remove(at: index)
                for nodeRunID in runs[id]?.nodeRunIDs ?? [] { nodeRuns[nodeRunID] = nil }
                runs[id] = nil
            }
        }
    }

    private let state = Mutex(State())
    private let capacity: Int

    /// Creates an empty store keeping the last `capacity` workflow runs.
    package init(capacity: Int = WorkflowRuns.defaultCapacity) { self.capacity = max(1, capacity) }

    /// How many workflow runs are kept.
    package var count: Int { state.withLock { $0.runs.count } }

    /// Starts a run: the trigger node completed with the inputs as output, one
    /// `IN_PROGRESS` node run per KAFKA node.
    package func start(_ workflow: WorkflowDefinition, inputs: JSONObject, by user: String) -> (Run, [WorkflowNodeRun])
    {
        let now = Date()
        let runID = PortIdentifier.make(prefix: "wfr_")
        var trigger = WorkflowNodeRun(
            id: PortIdentifier.make(prefix: "wfnr_"),
            workflowRunID: runID,
            node: workflow.trigger.identifier,
            status: .completed,
            createdAt: now,
            updatedAt: now
        )
        trigger.result = .success
        trigger.output = inputs
        let kafkaRuns = workflow.kafkaNodes.map {
            WorkflowNodeRun(
                id: PortIdentifier.make(prefix: "wfnr_"),
                workflowRunID: runID,
                node: $0.identifier,
                status: .inProgress,
                createdAt: now,
                updatedAt: now
            )
        }
        let run = Run(
            id: runID,
            workflow: workflow.identifier,
            inputs: inputs,
            triggeredBy: user,
            createdAt: now,
            nodeRunIDs: [trigger.id] + kafkaRuns.map(\.id)
        )
        state.withLock { state in
            state.runs[runID] = run
            state.order.append(runID)
            for nodeRun in [trigger] + kafkaRuns { state.nodeRuns[nodeRun.id] = nodeRun }
            state.evict(to: capacity)
        }
        return (run, kafkaRuns)
    }

    /// The node run, or 404 (also when `workflowRunID` is given and is not its run).
    package func nodeRun(_ id: String, of workflowRunID: String? = nil) throws(PortError) -> WorkflowNodeRun {
        guard let nodeRun = state.withLock({ $0.nodeRuns[id] }),
            workflowRunID.map({ $0 == nodeRun.workflowRunID }) ?? true
        else { throw Self.notFound(id) }
        return nodeRun
    }

    /// The workflow run with its node runs, or 404.
    package func run(_ id: String) throws(PortError) -> (Run, [WorkflowNodeRun]) {
        guard
            let found = state.withLock({ state in
                state.runs[id].map { ($0, $0.nodeRunIDs.compactMap { state.nodeRuns[$0] }) }
            })
        else {
            throw PortError(
                status: 404,
                code: "not_found",
                message: "Workflow run \"\(id)\" was not found",
                rule: "run-exists"
            )
        }
        return found
    }

    /// Applies a PATCH to a node run that is not completed.
    package func patch(
        _ id: String,
        of workflowRunID: String? = nil,
        _ patch: NodeRunPatch
    ) throws(PortError)
        -> WorkflowNodeRun
    {
        try update(id, of: workflowRunID) { nodeRun in
            if let status = patch.status { nodeRun.status = status }
            if let result = patch.result { nodeRun.result = result }
            if let output = patch.output { nodeRun.output = output }
            if let externalRunID = patch.externalRunID { nodeRun.externalRunID = externalRunID }
            if let links = patch.links { nodeRun.links = links }
        }
    }

    /// Appends logs to a node run that is not completed.
    package func appendLogs(
        _ id: String,
        _ logs: [(level: String, message: String)]
    ) throws(PortError)
        -> WorkflowNodeRun
    {
        try update(id, of: nil) { nodeRun in
            for log in logs { nodeRun.logs.append((log.level, log.message, Date())) }
        }
    }

    /// Forgets every run.
    package func reset() {
        state.withLock { $0 = State() }
    }

    private func update(
        _ id: String,
        of workflowRunID: String?,
        _ change: (inout WorkflowNodeRun) -> Void
    ) throws(PortError) -> WorkflowNodeRun {
        try state.withLock { (state) throws(PortError) -> WorkflowNodeRun in
            guard var nodeRun = state.nodeRuns[id], workflowRunID.map({ $0 == nodeRun.workflowRunID }) ?? true else {
                throw Self.notFound(id)
            }
            guard nodeRun.status != .completed else {
                throw PortError(
                    status: 422,
                    code: "run_exhausted",
                    message: "Workflow node run already completed",
                    rule: "node-run-locked-after-completed"
                )
            }
            change(&nodeRun)
            nodeRun.updatedAt = Date()
            state.nodeRuns[id] = nodeRun
            return nodeRun
        }
    }

    private static func notFound(_ id: String) -> PortError {
        PortError(
            status: 404,
            code: "not_found",
            message: "Workflow node run \"\(id)\" was not found",
            rule: "run-exists"
        )
    }
}
