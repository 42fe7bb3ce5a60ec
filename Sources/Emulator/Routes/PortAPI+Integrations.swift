import HTTPServer
import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Port's integration routes, as Ocean calls them at start-up and around each resync
/// (contract §11): the integration record, its config and resync state, resync requests,
/// kinds' examples, and the ingest URLs for its logs and metrics. Choices: ``IntegrationStore``.
extension PortAPI {
    func registerIntegrationRoutes(on router: inout PortRouter) {
        addRoute(
            &router,
            .get,
            "/v1/integration",
            route { (request, _) throws(PortError) in
                let wanted =
                    request.query("actionsProcessingEnabled") == nil
                    ? nil : try booleanQuery(request, "actionsProcessingEnabled")
                let selected = integrations.all.filter { record in
                    wanted.map { (record["actionsProcessingEnabled"]?.boolValue ?? false) == $0 } ?? true
                }
                return ok(["integrations": .array(selected.map(JSONValue.object))])
            }
        )
        addRoute(
            &router,
            .get,
            "/v1/integration/metadata",
            route { (_, _) throws(PortError) in
                let members = ["identifier", "installationId", "installationAppType", "updatedAt"]
                let list = integrations.all.map { record in
                    var shown = JSONObject()
                    for member in members { shown[member] = record[member] }
                    return JSONValue.object(shown)
                }
                return ok(["integrations": .array(list)])
            }
        )
        addRoute(
            &router,
            .get,
            "/v1/integration/provision-enabled",
            // No integration type is provisioned by the emulator: Ocean then creates its own resources.
            route { (_, _) throws(PortError) in ok(["integrations": []]) }
        )
        addRoute(
            &router,
            .post,
            "/v1/integration",
            route { (request, client) throws(PortError) in
                let body = try JSONBody(request).value
                guard let object = body.objectValue else {
                    throw .invalidRequest("body must be a JSON object, not \(body.typeName)")
                }
                let record = try integrations.create(object, by: client, ingestBase: ingestBase(request))
                return ok(["integration": .object(record)], status: 201)
            }
        )
        addRoute(
            &router,
            .get,
            "/v1/integration/:identifier",
            route { (request, _) throws(PortError) in
                if let field = request.query("byField"), !["installationId", "logIngestId"].contains(field) {
                    throw .invalidRequest(
                        "querystring.byField must be installationId or logIngestId (got \"\(field)\")"
                    )
                }
                return ok(["integration": .object(try integrations.integration(request.parameter("identifier")!))])
            }
        )
        addRoute(
            &router,
            .patch,
            "/v1/integration/:identifier",
            route { (request, client) throws(PortError) in
                let body = try optionalObject(request)
                let record = try integrations.patch(request.parameter("identifier")!, body, by: client)
                return ok(["integration": .object(record)])
            }
        )
        addRoute(
            &router,
            .delete,
            "/v1/integration/:identifier",
            route { (request, _) throws(PortError) in
                try integrations.delete(request.parameter("identifier")!)
                return ok([:])
            }
        )
        addRoute(
            &router,
            .patch,
            "/v1/integration/:identifier/config",
            route { (request, client) throws(PortError) in
                let body = try JSONBody(request).value.object(allowing: ["config"])
                guard let config = body["config"], config.objectValue != nil || config == .null else {
                    throw .invalidRequest("body.config is required (an object or null)")
                }
                let record = try integrations.patch(
                    request.parameter("identifier")!,
                    ["config": config == .null ? [:] : config],
                    by: client
                )
                return ok(["integration": .object(record)])
            }
        )
        addRoute(
            &router,
            .patch,
            "/v1/integration/:identifier/resync-state",
            route { (request, client) throws(PortError) in
                let body = try JSONBody(request).value
                guard let object = body.objectValue else {
                    throw .invalidRequest("body must be a JSON object, not \(body.typeName)")
                }
                let record = try integrations.setResyncState(request.parameter("identifier")!, object, by: client)
                return ok(["integration": .object(record)])
            }
        )
        addRoute(
            &router,
            .get,
            "/v1/integration/:identifier/resync-request",
            route { (request, _) throws(PortError) in
                ok(["request": try integrations.resyncRequest(request.parameter("identifier")!)])
            }
        )
        addRoute(
            &router,
            .post,
            "/v1/integration/:identifier/kinds/:kind/examples",
            route { (request, _) throws(PortError) in
                let body = try JSONBody(request).value.object(allowing: ["examples"])
                guard let examples = body["examples"], examples.arrayValue != nil else {
                    throw .invalidRequest("body.examples is required (an array of raw items)")
                }
                try integrations.setExamples(
                    request.parameter("identifier")!,
                    kind: request.parameter("kind")!,
                    examples
                )
                return ok([:])
            }
        )
        addRoute(
            &router,
            .get,
            "/v1/integration/:identifier/logs",
            route { (request, _) throws(PortError) in
                let limit = try integerQuery(request, "limit", in: 0...300) ?? 100
                let logs = try integrations.logs(request.parameter("identifier")!).suffix(limit)
                return ok(["data": ["logs": .array(Array(logs))]])
            }
        )
        registerIngestRoutes(on: &router)
    }

    /// Where Ocean sends its logs and metrics (the integration's `ingestUrl`s): logs are
    /// kept for `GET /v1/integration/{id}/logs`; metrics and heartbeats are accepted and dropped.
    private func registerIngestRoutes(on router: inout PortRouter) {
        addRoute(
            &router,
            .post,
            "/_emulator/integrations/:identifier/logs",
            route { (request, _) throws(PortError) in
                let body = try JSONBody(request).value
                guard let lines = body["logs"]?.arrayValue else {
                    throw .invalidRequest("body.logs is required (an array of log lines)")
                }
                try integrations.appendLogs(request.parameter("identifier")!, lines)
                return ok([:])
            }
        )
        for (method, path, key) in [
            (HTTPMethod.post, "/_emulator/integrations/:identifier/metrics/syncMetrics", "syncKindsMetrics"),
            (
                .put, "/_emulator/integrations/:identifier/metrics/syncMetrics/resync/:event/kind/:kind",
                "syncKindMetrics"
            ),
            (.post, "/_emulator/integrations/:identifier/metrics/heartbeat", ""),
        ] {
            addRoute(
                &router,
                method,
                path,
                route { (request, _) throws(PortError) in
                    let identifier = request.parameter("identifier")!
                    let body = try JSONBody(request).value
                    switch body[key] {
                    case .array(let items)?: try integrations.recordMetrics(identifier, items)
                    case let item? where item.objectValue != nil: try integrations.recordMetrics(identifier, [item])
                    default: _ = try integrations.integration(identifier)
                    }
                    return ok([:])
                }
            )
        }
        addRoute(
            &router,
            .get,
            "/v1/integration/:identifier/syncMetrics",
            route { (request, _) throws(PortError) in
                let data = try integrations.metrics(
                    request.parameter("identifier")!,
                    resyncID: request.query("resyncId")
                )
                return ok(["count": .int(Int64(data.count)), "data": .array(data)])
            }
        )
        addRoute(
            &router,
            .get,
            "/v1/integration/:identifier/syncsMetadata",
            route { (request, _) throws(PortError) in
                var syncs: [String: JSONObject] = [:]
                var order: [String] = []
                for item in try integrations.metrics(request.parameter("identifier")!, resyncID: nil) {
                    guard let event = item["eventId"]?.stringValue else { continue }
                    if syncs[event] == nil { order.append(event) }
                    syncs[event] = [
                        "eventId": .string(event), "syncState": item["syncState"] ?? "unknown",
                        "createdAt": syncs[event]?["createdAt"] ?? PortTimestamp.format(Date()),
                        "updatedAt": PortTimestamp.format(Date()),
                    ]
                }
                let data = order.suffix(50).reversed().compactMap { syncs[$0].map(JSONValue.object) }
                return ok(["count": .int(Int64(data.count)), "data": .array(data)])
            }
        )
    }

    /// The base of the ingest URLs: the address the client reached the emulator at.
    private func ingestBase(_ request: HTTPRequest) -> String {
        if let host = request.header("host"), !host.isEmpty { return "http://\(host)" }
        return String((info.info?.apiURL ?? "").dropLast("/v1".count))
    }
}

/// A body that may be absent (Port's optional request bodies): no bytes is `{}`.
func optionalObject(_ request: HTTPRequest) throws(PortError) -> JSONObject {
    guard !request.body.isEmpty else { return [:] }
    let body = try JSONBody(request).value
    guard let object = body.objectValue else {
        throw .invalidRequest("body must be a JSON object, not \(body.typeName)")
    }
    return object
}
