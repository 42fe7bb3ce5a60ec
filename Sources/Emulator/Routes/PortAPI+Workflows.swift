import HTTPServer
import PortContract

extension PortAPI {
    /// Workflow node runs: both PATCH paths, logs, and GET; COMPLETED locks a node run.
    func registerWorkflowRoutes(on router: inout PortRouter) {
        let patch = route { (request, _) throws(PortError) in
            let body = try NodeRunPatch(body: try JSONBody(request).value)
            let nodeRun = try workflows.patch(request.parameter("nodeRun")!, of: request.parameter("run"), body)
            return ok(["nodeRun": nodeRun.json])
        }
        addRoute(&router, .patch, "/v1/workflows/nodes/runs/:nodeRun", patch)
        addRoute(&router, .patch, "/v1/workflows/runs/:run/nodes/:nodeRun", patch)
        addRoute(
            &router,
            .get,
            "/v1/workflows/nodes/runs/:nodeRun",
            route { (request, _) throws(PortError) in
                ok(["nodeRun": try workflows.nodeRun(request.parameter("nodeRun")!).json])
            }
        )
        addRoute(
            &router,
            .post,
            "/v1/workflows/nodes/runs/:nodeRun/logs",
            route { (request, _) throws(PortError) in
                let body = try JSONBody(request).value.object(allowing: ["logs"])
                guard let items = body["logs"]?.arrayValue, !items.isEmpty else {
                    throw .invalidRequest("body.logs is required: a non-empty array of {level, message}")
                }
                var logs: [(level: String, message: String)] = []
                for (position, item) in items.enumerated() {
                    let log = try item.object(allowing: ["level", "message"])
                    guard let level = log["level"]?.stringValue, ["INFO", "WARN", "ERROR", "DEBUG"].contains(level),
                        let message = log["message"]?.stringValue
                    else {
                        throw .invalidRequest(
                            "body.logs[\(position)] needs level (INFO, WARN, ERROR or DEBUG) and message (a string)"
                        )
                    }
                    logs.append((level, message))
                }
                _ = try workflows.appendLogs(request.parameter("nodeRun")!, logs)
                return ok([:])
            }
        )
    }
}

extension WorkflowRuns {
    /// A workflow run as the admin API shows it: status, result and its node runs.
    func detail(_ id: String) throws(PortError) -> JSONValue {
        let (run, nodeRuns) = try self.run(id)
        let completed = nodeRuns.allSatisfy { $0.status == .completed }
        let failed = nodeRuns.contains { $0.result == .failed || $0.result == .cancelled }
        return [
            "id": .string(run.id), "workflow": .string(run.workflow),
            "status": completed ? "COMPLETED" : "IN_PROGRESS",
            "result": completed ? (failed ? "FAILED" : "SUCCESS") : .null,
            "inputs": .object(run.inputs), "createdAt": PortTimestamp.format(run.createdAt),
            "nodeRuns": .array(nodeRuns.map(\.json)),
        ]
    }
}
