import HTTPServer
import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// HTTP polling (contract §9): port-agent's `STREAMER_NAME=POLLING` and Ocean claim work
/// instead of reading Kafka, and ack what they took.
///
/// **Emulator choices**, here and in `fixtures/README.md`: work is queued for polling, and
/// not published to Kafka, while the organization's `settings.portAgentStreamerName` is
/// `POLLING` (port-agent sets it at start-up); `limit` defaults to 10 (1–1000); a missing
/// `x-port-reserved-usage: true` is 403 `missing_permissions`; a second ack of one id is 409
/// `already_acked`; an unknown one is 404.
extension PortAPI {
    func registerPollingRoutes(on router: inout PortRouter) {
        addRoute(
            &router,
            .post,
            "/v1/actions/runs/claim-pending",
            route { (request, client) throws(PortError) in
                let claimed = try claim(.run, request: request, client: client) { id in
                    (try? runs.run(id))?.status == .inProgress
                }
                let list = claimed.compactMap { item -> JSONValue? in
                    guard let run = (try? runs.run(item.id))?.json(.v2).objectValue else { return nil }
                    return handOut(item, as: run, client: client, request: request)
                }
                return ok(["runs": .array(list)])
            }
        )
        addRoute(
            &router,
            .patch,
            "/v1/actions/runs/ack",
            route { (request, client) throws(PortError) in
                try Self.requireReserved(request)
                let body = try JSONBody(request).value.object(allowing: ["runIds", "runId"])
                switch (body["runIds"], body["runId"]) {
                case (let list?, nil):
                    guard let items = list.arrayValue, !items.isEmpty, items.allSatisfy({ $0.stringValue != nil })
                    else {
                        throw .invalidRequest("body.runIds must be a non-empty array of run ids")
                    }
                    let ids = items.compactMap(\.stringValue)
                    let acked = ids.filter { ack($0, .run, client: client, request: request) == .acked }
                    return ok(["ackedCount": .int(Int64(acked.count))])
                case (nil, let single?):
                    guard let id = single.stringValue else { throw .invalidRequest("body.runId must be a run id") }
                    try Self.check(ack(id, .run, client: client, request: request), id: id, what: "Run")
                    return ok(["ackedCount": 1])
                default:
                    throw .invalidRequest("body needs exactly one of runIds (port-agent) and runId (Ocean)")
                }
            }
        )
        addRoute(
            &router,
            .post,
            "/v1/workflows/runs/claim-pending",
            route { (request, client) throws(PortError) in
                let claimed = try claim(.nodeRun, request: request, client: client) { id in
                    (try? workflows.nodeRun(id))?.status == .inProgress
                }
                let list = claimed.compactMap { item -> JSONValue? in
                    guard let nodeRun = try? workflows.nodeRun(item.id) else { return nil }
                    let object: JSONObject = [
                        "identifier": .string(nodeRun.id), "workflowRunIdentifier": .string(nodeRun.workflowRunID),
                        "node": .string(nodeRun.node), "status": .string(nodeRun.status.rawValue),
                    ]
                    return handOut(item, as: object, client: client, request: request)
                }
                return ok(["nodeRuns": .array(list)])
            }
        )
        addRoute(
            &router,
            .patch,
            "/v1/workflows/runs/ack",
            route { (request, client) throws(PortError) in
                try Self.requireReserved(request)
                let body = try JSONBody(request).value.object(allowing: ["nodeRunIdentifier"])
                guard let id = body["nodeRunIdentifier"]?.stringValue else {
                    throw .invalidRequest("body.nodeRunIdentifier is required (a wfnr_ id)")
                }
                try Self.check(ack(id, .nodeRun, client: client, request: request), id: id, what: "Workflow node run")
                return ok(["acked": true])
            }
        )
    }

    /// Claims what a `claim-pending` body asks for, on the emulator's clock.
    private func claim(
        _ kind: PollingQueue.Kind,
        request: HTTPRequest,
        client: String,
        isOpen: (String) -> Bool
    ) throws(PortError) -> [PollingQueue.Item] {
        let claim = try ClaimRequest(request)
        return publisher.polling.claim(
            kind,
            limit: claim.limit,
            installationID: claim.installationID,
            invocationType: claim.invocationType,
            visibilityTimeout: claim.visibilityTimeout,
            exclude: claim.exclude,
            by: client,
            now: automations.clock.now(),
            isOpen: isOpen
        )
    }

    /// Acks one id and journals it under its run.
    private func ack(
        _ id: String,
        _ kind: PollingQueue.Kind,
        client: String,
        request: HTTPRequest
    ) -> PollingQueue.AckOutcome {
        let outcome = publisher.polling.ack(id, kind: kind, by: client, at: automations.clock.now())
        if outcome != .unknown {
            recorder.record(
                JournalEntry(
                    time: Date(),
                    clientID: client,
                    method: request.method,
                    path: request.path,
                    status: outcome == .acked ? 200 : 409,
                    runID: id
                )
            )
        }
        return outcome
    }

    /// A claimed item as `claim-pending` answers it (`base`, its payload, the claim's
    /// fields), journaled under its run so that the run's journal shows who took it.
    private func handOut(
        _ item: PollingQueue.Item,
        as base: JSONObject,
        client: String,
        request: HTTPRequest
    ) -> JSONValue {
        var object = base
        for (key, value) in item.payload { object[key] = value }
        let claim = item.claims.last
        object["pendingExecution"] = true
        object["claimedUntil"] = PortTimestamp.format(claim?.until)
        object["installationId"] = claim.map { .string($0.installationID) } ?? .null
        recorder.record(
            JournalEntry(
                time: Date(),
                clientID: client,
                method: request.method,
                path: request.path,
                status: 200,
                runID: item.id
            )
        )
        return .object(object)
    }

    private static func check(_ outcome: PollingQueue.AckOutcome, id: String, what: String) throws(PortError) {
        switch outcome {
        case .acked: return
        case .alreadyAcked:
            throw PortError(
                status: 409,
                code: "already_acked",
                message: "\(what) \"\(id)\" was already acked",
                rule: "ack-once"
            )
        case .unknown:
            throw PortError(
                status: 404,
                code: "not_found",
                message: "\(what) \"\(id)\" was never handed out for polling",
                rule: "run-exists"
            )
        }
    }

    /// Port's reserved routes answer only calls that say they are an agent's.
    static func requireReserved(_ request: HTTPRequest) throws(PortError) {
        guard request.header("x-port-reserved-usage")?.lowercased() == "true" else {
            throw PortError(
                status: 403,
                code: "missing_permissions",
                message:
                    "\(request.method) \(request.path) is reserved for Port's agents: send x-port-reserved-usage: true",
                rule: "reserved-usage-header"
            )
        }
    }
}

/// A `claim-pending` body: `{installationId, limit?, invocationMethod?, visibilityTimeoutMs?, exclude?}`.
private struct ClaimRequest {
    var installationID: String
    var limit = 10
    var invocationType: String?
    var visibilityTimeout: Duration = .milliseconds(60_000)
    var exclude: Set<String> = []

    init(_ request: HTTPRequest) throws(PortError) {
        try PortAPI.requireReserved(request)
        let body = try JSONBody(request).value.object(
            allowing: ["installationId", "limit", "invocationMethod", "visibilityTimeoutMs", "exclude"]
        )
        guard let installation = body["installationId"]?.stringValue, !installation.isEmpty else {
            throw .invalidRequest("body.installationId is required (a string naming the agent)")
        }
        installationID = installation
        if let value = body["limit"] {
            guard let number = value.intValue, (1...1000).contains(number) else {
                throw .invalidRequest("body.limit must be an integer from 1 to 1000 (got \(value.compactText))")
            }
            limit = Int(number)
        }
        switch body["invocationMethod"] {
        case nil, .null?: break
        case .string(let type)?: invocationType = type
        case .object(let method)? where method["type"]?.stringValue != nil: invocationType = method["type"]?.stringValue
        case let other?:
            throw .invalidRequest(
                "body.invocationMethod must be a type (WEBHOOK, KAFKA…) or {type} (got \(other.compactText))"
            )
        }
        if let value = body["visibilityTimeoutMs"] {
            guard let number = value.intValue, (1...600_000).contains(number) else {
                throw .invalidRequest(
                    "body.visibilityTimeoutMs must be an integer from 1 to 600000 (got \(value.compactText))"
                )
            }
            visibilityTimeout = .milliseconds(number)
        }
        if let value = body["exclude"] {
            guard let items = value.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
                throw .invalidRequest("body.exclude must be an array of ids")
            }
            exclude = Set(items.compactMap(\.stringValue))
        }
    }
}
