public import PortContract
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a handler gets for one run: who asked for what, and the calls that report progress.
/// Every call goes to Port's API at once (with the run's id), retried on transient errors.
public final class RunContext: Sendable {
    /// The invocation as read from Kafka.
    public let invocation: RunInvocation
    private let client: PortClient
    private let summaryBox = SummaryBox()
    /// Whether this is a workflow node run (reported through the node-run routes).
    let isWorkflowNode: Bool

    init(invocation: RunInvocation, client: PortClient, isWorkflowNode: Bool = false) {
        self.invocation = invocation
        self.client = client
        self.isWorkflowNode = isWorkflowNode
    }

    /// The run's id.
    public var runID: String { invocation.runID }
    /// The action's identifier.
    public var action: String { invocation.action }
    /// The inputs that were secret; `inputs` holds their plaintext (never log it).
    public var secretInputs: [String] { invocation.secretInputs }
    /// `CREATE`, `DAY-2` or `DELETE`, when known.
    public var operation: String? { invocation.operation }
    /// The blueprint the action works on.
    public var blueprint: String? { invocation.blueprint }
    /// The entity the run acts on (DAY-2, DELETE).
    public var entity: JSONObject? { invocation.entity }
    /// The user inputs.
    public var inputs: JSONObject { invocation.inputs }
    /// The email of the user who triggered the run.
    public var user: String? { invocation.user }

    /// Adds a line to the run's log.
    public func log(_ message: String) async throws {
        if isWorkflowNode {
            try await client.send(
                .POST,
                "/workflows/nodes/runs/\(runID)/logs",
                body: ["logs": [["level": "INFO", "message": .string(message)]]]
            )
        } else {
            try await client.send(.POST, "/actions/runs/\(runID)/logs", body: ["message": .string(message)])
        }
    }

    /// Sets the label shown beside the run's status (a workflow node logs it instead).
    public func setStatusLabel(_ label: String) async throws {
        if isWorkflowNode { return try await log(label) }
        try await patch(["statusLabel": .string(label)])
    }

    /// Replaces the run's links.
    public func setLinks(_ links: [String]) async throws {
        if isWorkflowNode { return try await patchNode(["links": .array(links.map(JSONValue.string))]) }
        try await patch(["link": .array(links.map(JSONValue.string))])
    }

    /// Sets the run's summary (also used as the final log's text).
    public func setSummary(_ summary: String) async throws {
        summaryBox.set(summary)
        if isWorkflowNode { return try await log(summary) }
        try await patch(["summary": .string(summary)])
    }

    /// Sets the consumer's own id for the run.
    public func setExternalRunID(_ id: String) async throws {
        if isWorkflowNode { return try await patchNode(["externalRunId": .string(id)]) }
        try await patch(["externalRunId": .string(id)])
    }

    private func patchNode(_ fields: JSONObject) async throws {
        try await client.send(.PATCH, "/workflows/nodes/runs/\(runID)", body: .object(fields))
    }

    /// Creates or updates (merging properties) an entity, tied to the run with `run_id`.
    @discardableResult
    public func upsertEntity(
        blueprint: String,
        identifier: String,
        title: String? = nil,
        properties: JSONObject = [:],
        relations: JSONObject = [:]
    ) async throws -> JSONValue {
        var body: JSONObject = ["identifier": .string(identifier)]
        body["title"] = title.map(JSONValue.string)
        body["properties"] = .object(properties)
        body["relations"] = .object(relations)
        return try await client.send(
            .POST,
            "/blueprints/\(blueprint)/entities?upsert=true&merge=true&run_id=\(runID)",
            body: .object(body)
        )
    }

    /// Deletes an entity, tied to the run with `run_id`.
    public func deleteEntity(blueprint: String, identifier: String) async throws {
        try await client.send(.DELETE, "/blueprints/\(blueprint)/entities/\(identifier)?run_id=\(runID)")
    }

    /// The summary the handler set, if any.
    var summary: String? { summaryBox.value }

    private func patch(_ fields: JSONObject) async throws {
        try await client.send(.PATCH, "/actions/runs/\(runID)", body: .object(fields))
    }
}

/// The summary a handler set, shared between its tasks.
private final class SummaryBox: Sendable {
    private let storage = Mutex<String?>(nil)
    func set(_ value: String) { storage.withLock { $0 = value } }
    var value: String? { storage.withLock { $0 } }
}
