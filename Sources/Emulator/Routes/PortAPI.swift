import HTTPServer
import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Port's REST API over the RunStore and the Catalog: auth, action runs, blueprints,
/// actions, entities and workflow node runs, as the contract lists them; and the
/// emulator's own admin routes (`registerAdminRoutes`), over the same parts.
///
/// Every route is immediate (answered on the I/O thread under the stores' short locks).
/// A request the contract refuses is answered with Port's error envelope and recorded as
/// a violation with the rule that refused it.
struct PortAPI: Sendable {
    let runs: RunStore
    let workflows: WorkflowRuns
    let catalog: Catalog
    let tokens: TokenStore
    let recorder: CallRecorder
    /// The middlewares Port's routes run through.
    let pipeline: PortPipeline
    let info: InfoBox
    let publisher: InvocationPublisher
    let faults: FaultInjector
    /// The organization's secrets (`.secrets` in templates).
    let secrets: SecretStore
    /// The client secret: the key of agent signatures and of secret inputs.
    let clientSecret: String
    /// Evaluates automations on entity and run changes.
    let automations: AutomationEngine
    /// The organization's name and settings (`/v1/organization`).
    let organization: OrganizationStore
    /// The organization's integrations (`/v1/integration`).
    let integrations: IntegrationStore
    /// The organization's teams and users (`/v1/teams`, `/v1/users`).
    let directory: Directory
    /// What changed, for `GET /v1/audit-log`.
    let audit: AuditLog
    /// Added to every answer of Port's API (`--api-latency`), to measure consumers as
    /// they would run against Port's real API over a network; zero answers at once.
    let latency: Duration

    /// What `GET /v1/kafka-credentials` answers: the SASL user of an external Kafka, or the
    /// SCRAM user of the embedded Kafka's SASL_SSL listeners.
    let kafkaCredentials: (username: String, password: String)

    func register(on router: inout PortRouter) {
        registerCatalogRoutes(on: &router)
        registerOrganizationRoutes(on: &router)
        registerEntityRoutes(on: &router)
        registerBulkRoutes(on: &router)
        registerIntegrationRoutes(on: &router)
        registerDirectoryRoutes(on: &router)
        registerScorecardRoutes(on: &router)
        registerAuditRoutes(on: &router)
        registerRenameRoutes(on: &router)
        registerAggregateRoutes(on: &router)
        registerWorkflowRoutes(on: &router)
        registerPollingRoutes(on: &router)
        registerSecretRoutes(on: &router)
        addRoute(
            &router,
            .get,
            "/v1/kafka-credentials",
            route { (_, _) throws(PortError) in
                // Port hands out its SASL_SSL brokers: the embedded Kafka's SASL_SSL listeners.
                let current = info.info
                let brokers = (current?.kafkaSASLSSLBootstrapServers ?? current?.kafkaBootstrapServers)?
                    .split(separator: ",").map { JSONValue.string(String($0)) }
                return ok([
                    "credentials": [
                        "username": .string(kafkaCredentials.username),
                        "password": .string(kafkaCredentials.password),
                        "brokers": .array(brokers ?? []),
                    ]
                ])
            }
        )
        addRoute(
            &router,
            .post,
            "/v1/auth/access_token",
            PortRoute(authenticated: false) { request, context in
                let grant = try PortError.typed { () throws(PortError) in
                    let reader = try JSONBody(request).value.object(allowing: ["clientId", "clientSecret"])
                    guard let clientID = reader["clientId"]?.stringValue,
                        let secret = reader["clientSecret"]?.stringValue
                    else {
                        throw .invalidRequest("body.clientId and body.clientSecret are required strings")
                    }
                    let grant = try tokens.issue(clientID: clientID, clientSecret: secret)
                    // The journal names who asked, though the request carries no token.
                    context.clientID = clientID
                    return grant
                }
                return ok([
                    "accessToken": .string(grant.accessToken), "expiresIn": .int(Int64(grant.expiresIn)),
                    "tokenType": "Bearer",
                ])
            }
        )
        addRoute(
            &router,
            .get,
            "/v1/actions/runs/:id",
            route { (request, _) throws(PortError) in
                ok(["run": try runs.run(request.parameter("id")!).json(try shape(request))])
            }
        )
        addRoute(
            &router,
            .patch,
            "/v1/actions/runs/:id",
            route { (request, client) throws(PortError) in
                let patch = try RunPatch(body: try JSONBody(request).value)
                return ok(["run": try runs.patch(request.parameter("id")!, patch, by: client).json(try shape(request))])
            }
        )
        addRoute(
            &router,
            .post,
            "/v1/actions/runs/:id/logs",
            route { (request, client) throws(PortError) in
                let log = try RunLogRequest(body: try JSONBody(request).value)
                return ok(
                    ["runLog": try runs.appendLog(request.parameter("id")!, log, by: client).log.json],
                    status: 201
                )
            }
        )
        addRoute(
            &router,
            .get,
            "/v1/actions/runs/:id/logs",
            route { (request, _) throws(PortError) in
                let limit = try integerQuery(request, "limit", in: 1...50) ?? 50
                let offset = try integerQuery(request, "offset", in: 0...Int.max) ?? 0
                let logs = try runs.logs(request.parameter("id")!).dropFirst(offset).prefix(limit)
                return ok(["runLogs": .array(logs.map(\.json))])
            }
        )
        addRoute(
            &router,
            .patch,
            "/v1/actions/runs/:id/approval",
            route { (request, client) throws(PortError) in
                let decision = try ApprovalRequest(body: try JSONBody(request).value)
                let run = try runs.decide(request.parameter("id")!, decision, by: client)
                // Port publishes the invocation of a run that needed approval once approved.
                if decision.approve { publisher.schedule(runID: run.id) }
                return ok(["run": run.json(try shape(request))], status: 201)
            }
        )
        addRoute(
            &router,
            .get,
            "/v1/actions/runs",
            route { (request, _) throws(PortError) in
                let limit = try integerQuery(request, "limit", in: 1...1000) ?? 1000
                let runShape = try shape(request)
                _ = try booleanQuery(request, "active")
                let sources = try request.queryValues("source").flatMap { $0.split(separator: ",") }.map {
                    (text) throws(PortError) -> RunSource in
                    guard let source = RunSource(rawValue: String(text)) else {
                        throw .invalidRequest("querystring.source must be UI, API or AUTOMATION (got \"\(text)\")")
                    }
                    return source
                }
                let selected = runs.runs.filter { run in
                    (request.query("action").map { $0 == run.request.action.identifier } ?? true)
                        && (request.query("entity").map { $0 == run.request.entityIdentifier } ?? true)
                        && (request.query("blueprint").map { $0 == run.request.blueprintIdentifier } ?? true)
                        && (request.query("user_email").map { $0 == run.request.createdBy } ?? true)
                        && (request.query("user_id").map { $0 == run.request.createdBy } ?? true)
                        && (sources.isEmpty || sources.contains(run.request.source))
                        && (request.query("external_run_id").map { $0 == run.externalRunId } ?? true)
                        && (request.query("active").map { ($0 == "true") == !run.status.isFinished } ?? true)
                }
                return ok(["runs": .array(selected.suffix(limit).reversed().map { $0.json(runShape) })])
            }
        )
    }

    /// Registers a route of Port's API behind its middlewares (``PortPipeline/port``):
    /// answered on the I/O thread, or, with a latency, from a task that waits first (holding
    /// no server thread).
    func addRoute(_ router: inout PortRouter, _ method: HTTPMethod, _ path: String, _ route: PortRoute) {
        let middlewares = route.authenticated ? pipeline.port : pipeline.portPublic
        let handler = route.handler
        guard latency > .zero else { return router.addImmediate(method, path, middlewares: middlewares, handler) }
        router.add(method, path, middlewares: middlewares) { [latency] request, context in
            try await Task.sleep(for: latency)
            return try handler(request, &context)
        }
    }

    /// A route of Port's API whose handler takes the authenticated client's id (empty when
    /// `authenticated` is false). What it throws is Port's envelope and a violation
    /// (``ViolationMiddleware``).
    func route(
        authenticated: Bool = true,
        _ handler: @escaping @Sendable (HTTPRequest, String) throws(PortError) -> HTTPResponse
    ) -> PortRoute {
        PortRoute(authenticated: authenticated) { request, context in
            try PortError.typed { () throws(PortError) in try handler(request, context.clientID ?? "") }
        }
    }
}

/// The emulator's router: its handlers see a ``PortRequestContext``.
typealias PortRouter = HTTPRouter<PortRequestContext>

/// One route of Port's API: whether it takes a token, and its handler.
struct PortRoute: Sendable {
    let authenticated: Bool
    let handler: HTTPImmediateHandler<PortRequestContext>
}

extension PortError {
    /// This error as Port's envelope.
    var response: HTTPResponse { .error(status: status, code: code, message: message) }

    /// Runs `body`, whose `throw .invalidRequest(…)` needs the error's type, in a handler:
    /// what it throws leaves as a ``PortRefusal``, which the server answers with Port's envelope.
    static func typed<Value>(_ body: () throws(PortError) -> Value) throws(PortRefusal) -> Value {
        do {
            return try body()
        } catch {
            throw PortRefusal(error: error)
        }
    }

    /// ``typed(_:)`` for a body that awaits.
    static func typedAsync<Value>(_ body: () async throws(PortError) -> Value) async throws(PortRefusal) -> Value {
        do {
            return try await body()
        } catch {
            throw PortRefusal(error: error)
        }
    }
}

/// A ``PortError`` thrown out of a handler or middleware: the server answers with Port's
/// envelope, and ``ViolationMiddleware`` records it with its rule. (PortContract's error
/// cannot adopt the HTTP layer's protocol itself without Emulator exporting that layer.)
struct PortRefusal: HTTPResponseError {
    let error: PortError

    var response: HTTPResponse { error.response }
}

/// `{"ok": true, …members}` with a status.
func ok(_ members: JSONObject, status: Int = 200) -> HTTPResponse {
    var body: JSONObject = ["ok": true]
    for (key, value) in members { body[key] = value }
    return .json(status: status, bytes: JSONValue.object(body).compactBytes)
}

/// The `version` query parameter: `v1` (default) or `v2`.
func shape(_ request: HTTPRequest) throws(PortError) -> RunShape {
    guard let text = request.query("version") else { return .v1 }
    guard let shape = RunShape(rawValue: text) else {
        throw .invalidRequest("querystring.version must be one of v1, v2 (got \"\(text)\")")
    }
    return shape
}

/// An integer query parameter within `range`, or `nil` when absent.
func integerQuery(_ request: HTTPRequest, _ name: String, in range: ClosedRange<Int>) throws(PortError) -> Int? {
    guard let text = request.query(name) else { return nil }
    guard let value = Int(text), range.contains(value) else {
        throw .invalidRequest(
            "querystring.\(name) must be an integer from \(range.lowerBound)"
                + (range.upperBound == Int.max ? " up" : " to \(range.upperBound)") + " (got \"\(text)\")"
        )
    }
    return value
}

/// A request body parsed as JSON: malformed text is 400 `bad_request` with the position.
struct JSONBody {
    let value: JSONValue

    init(_ request: HTTPRequest) throws(PortError) {
        do {
            value = try JSONValue.parse(request.body)
        } catch {
            throw .malformedBody(error.description)
        }
    }
}
