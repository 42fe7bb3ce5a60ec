import HTTPServer
import PortCatalog
import PortContract
import PortKafka

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension PortAPI {
    /// The emulator's own routes under `/_emulator/` (no Port token): what tests and people
    /// use to look inside, create runs, inject faults and start over.
    func registerAdminRoutes(on router: inout PortRouter) {
        router.addImmediate(.get, "/_emulator/health") { _ in ok([:]) }
        router.addImmediate(.get, "/_emulator/info") { _ in try .json(info.info) }
        router.addImmediate(.get, "/_emulator/state") { _ in
            guard let state = pipeline.state else {
                return PortError(
                    status: 404,
                    code: "not_found",
                    message: "this emulator keeps no state: start it with --state-dir DIR",
                    rule: "state-dir-given"
                )
                .response
            }
            return ok(["state": state.json])
        }
        router.addImmediate(.get, "/_emulator/runs") { _ in
            ok([
                "runs": .array(runs.runs.map { detail($0, withMessage: false) }),
                "evicted": .int(Int64(runs.evictedRuns)), "capacity": .int(Int64(runs.finishedRunCapacity)),
            ])
        }
        router.addImmediate(.get, "/_emulator/runs/:id") { request in
            try PortError.typed { () throws(PortError) in ok(["run": detail(try runs.run(request.parameter("id")!))]) }
        }
        router.add(.get, "/_emulator/runs/:id/wait") { request in
            try await PortError.typedAsync { () async throws(PortError) in
                let wait = try WaitRequest(request)
                let result = try await runs.wait(for: request.parameter("id")!, timeout: wait.timeout) { run in
                    if let after = wait.after, run.version > after { return true }
                    if let status = wait.status { return run.status == status || run.isLocked }
                    return run.isLocked
                }
                return ok([
                    "run": detail(result.run, logs: result.logs),
                    "reached": .bool(wait.status.map { result.run.status == $0 } ?? result.reached),
                    "timedOut": .bool(!result.reached),
                ])
            }
        }
        router.add(.post, "/_emulator/runs/wait") { request in
            try await PortError.typedAsync { () async throws(PortError) in
                let body = try JSONBody(request).value.object(allowing: ["ids", "timeout"])
                guard let ids = body["ids"]?.arrayValue?.compactMap(\.stringValue) else {
                    throw .invalidRequest("body.ids must be an array of run ids")
                }
                let timeout =
                    try body["timeout"].map { value throws(PortError) in
                        try WaitRequest.timeout(value.stringValue ?? value.compactText, field: "body.timeout")
                    } ?? .seconds(30)
                let deadline = ContinuousClock.now + timeout
                var pending: [JSONValue] = []
                var finished: [JSONValue] = []
                var missing: [JSONValue] = []
                // Every run named is held from eviction while the request waits on each.
                runs.hold(ids)
                defer { runs.release(ids) }
                for id in ids {
                    let remaining = max(deadline - ContinuousClock.now, .zero)
                    guard let result = try? await runs.wait(for: id, timeout: remaining, until: { $0.isLocked }) else {
                        missing.append(.string(id))
                        continue
                    }
                    if result.reached {
                        finished.append(detail(result.run, logs: result.logs, withMessage: false))
                    } else {
                        pending.append(.string(id))
                    }
                }
                // The finished runs as they ended: a caller keeps them, as the oldest finished
                // runs are evicted past --max-finished-runs. A run not found (never created,
                // reset, or evicted before this request) is `missing`.
                return ok([
                    "finished": .int(Int64(finished.count)), "pending": .array(pending), "runs": .array(finished),
                    "missing": .array(missing), "evicted": .int(Int64(runs.evictedRuns)),
                ])
            }
        }
        // Ends the holds of runs created with X-Port-Emulator-Hold-Runs.
        router.addImmediate(.post, "/_emulator/runs/release") { request in
            try PortError.typed { () throws(PortError) in
                let body = try JSONBody(request).value.object(allowing: ["ids"])
                guard let ids = body["ids"]?.arrayValue?.compactMap(\.stringValue) else {
                    throw .invalidRequest("body.ids must be an array of run ids")
                }
                runs.release(ids)
                return ok(["released": .int(Int64(ids.count))])
            }
        }
        router.addImmediate(.post, "/_emulator/faults") { request in
            try PortError.typed { () throws(PortError) in
                let fault = try FaultInjector.fault(from: try JSONBody(request).value)
                try faults.inject(fault)
                return ok(
                    ["injected": .string(fault.description), "armed": .int(Int64(faults.armed.count))],
                    status: 201
                )
            }
        }
        router.addImmediate(.get, "/_emulator/faults") { _ in
            ok(["armed": .array(faults.armed.map { .string(FaultInjector.Fault.http($0).description) })])
        }
        router.addImmediate(.delete, "/_emulator/faults") { request in
            if let tag = request.query("tag") { faults.clear(tag: tag) } else { faults.clear() }
            return ok([:])
        }
        router.addImmediate(.get, "/_emulator/workflows") { _ in
            ok(["workflows": .array(catalog.workflows.keys.sorted().map(JSONValue.string))])
        }
        router.addImmediate(.get, "/_emulator/workflows/runs/:id") { request in
            try PortError.typed { () throws(PortError) in
                ok(["workflowRun": try workflows.detail(request.parameter("id")!)])
            }
        }
        router.addImmediate(.post, "/_emulator/workflows/:workflow/runs") { request in
            try PortError.typed { () throws(PortError) in
                let name = request.parameter("workflow")!
                guard let workflow = catalog.workflows[name] else {
                    throw PortError(
                        status: 404,
                        code: "not_found",
                        message: "Workflow \"\(name)\" was not found",
                        rule: "workflow-exists"
                    )
                }
                let body = try JSONBody(request).value.object(allowing: ["inputs", "user"])
                guard let inputs = (body["inputs"] ?? [:]).objectValue else {
                    throw .invalidRequest("body.inputs must be an object")
                }
                let filled = workflow.inputSchema.applyingDefaults(to: inputs)
                let problems = workflow.inputSchema.violations(of: filled, unknown: "an input of the workflow")
                guard problems.isEmpty else { throw .userInputsInvalid(problems, action: workflow.identifier) }
                let user = body["user"]?.stringValue ?? "emulator-user@example.com"
                let (run, kafkaRuns) = workflows.start(workflow, inputs: filled, by: user)
                let byPolling = publisher.deliversByPolling()
                for nodeRun in kafkaRuns {
                    publisher.schedule(
                        nodeRun: nodeRun,
                        of: run,
                        workflow: workflow,
                        in: workflows,
                        byPolling: byPolling
                    )
                }
                return ok(["workflowRun": try workflows.detail(run.id)], status: 201)
            }
        }
        router.addImmediate(.get, "/_emulator/invocations") { _ in
            ok(["invocations": .array(catalog.invocations.keys.sorted().map(JSONValue.string))])
        }
        router.add(.post, "/_emulator/invocations/:name") { request in
            let name = request.parameter("name")!
            return try await PortError.typedAsync { () async throws(PortError) in
                guard let message = catalog.invocations[name] else {
                    throw PortError(
                        status: 404,
                        code: "not_found",
                        message: "no invocation fixture \"\(name)\"; known: "
                            + catalog.invocations.keys.sorted().joined(separator: ", "),
                        rule: "invocation-fixture-exists"
                    )
                }
                let runID = RawInvocation.runID(of: message) ?? ""
                let run = try runs.create(RawInvocation.newRun(for: message), id: runID)
                runs.holdIfAsked(run.id, by: request)
                do {
                    let delivery = try await publisher.publishRaw(message, runID: runID)
                    return ok(
                        [
                            "run": run.json(.v2), "topic": .string(delivery.topic),
                            "partition": .int(Int64(delivery.partition)), "offset": .int(delivery.offset),
                        ],
                        status: 201
                    )
                } catch {
                    runs.fail(runID, reason: "port-emulator could not publish the invocation: \(error)")
                    return .error(status: 503, code: "kafka_unavailable", message: "publishing failed: \(error)")
                }
            }
        }
        router.addImmediate(.post, "/_emulator/runs") { request in
            try PortError.typed { () throws(PortError) in
                let run = runs.create(try newRun(from: JSONBody(request)))
                runs.holdIfAsked(run.id, by: request)
                publisher.schedule(runID: run.id)
                return ok(["run": run.json(.v2)], status: 201)
            }
        }
        router.addImmediate(.get, "/_emulator/journal") { request in
            let run = request.query("run")
            return ok([
                "journal": .array(recorder.journal.filter { run == nil || $0.runID == run }.map(\.json)),
                "evicted": .int(Int64(recorder.evicted.journal)), "capacity": .int(Int64(recorder.capacity)),
            ])
        }
        router.addImmediate(.get, "/_emulator/violations") { request in
            let run = request.query("run")
            return ok([
                "violations": .array(recorder.violations.filter { run == nil || $0.runID == run }.map(\.json)),
                "evicted": .int(Int64(recorder.evicted.violations)), "capacity": .int(Int64(recorder.capacity)),
            ])
        }
        router.addImmediate(.post, "/_emulator/tokens/expire") { _ in
            try? faults.inject(.expireTokens)
            return ok([:])
        }
        registerClockRoutes(on: &router)
        router.addImmediate(.post, "/_emulator/reset") { _ in
            // A timer check that read the entities before the reset would fire on them after.
            automations.withoutTimerChecks {
                automations.reset()
                automations.clock.reset()
                publisher.polling.reset()
                secrets.reset()
                runs.reset()
                workflows.reset()
                faults.clear()
                catalog.reset()
                organization.reset()
                integrations.reset()
                directory.reset()
                audit.reset()
                recorder.reset()
            }
            return ok([:])
        }
    }

    /// A run with its logs and the entities it touched, for people and tests.
    private func detail(_ run: ActionRun, logs: [RunLog]? = nil, withMessage: Bool = true) -> JSONValue {
        var object = run.json(.v2).objectValue ?? [:]
        object["version"] = .int(Int64(run.version))
        object["logs"] = .array((logs ?? (try? runs.logs(run.id)) ?? []).map(\.json))
        object["affectedEntities"] = .array(run.affectedEntities.map(\.json))
        object["automationEvent"] = run.request.automationEvent
        object["polling"] = publisher.polling.item(run.id)?.json
        if let delivery = run.delivery {
            var kafka: JSONObject = [
                "topic": .string(delivery.topic), "partition": .int(Int64(delivery.partition)),
                "offset": .int(delivery.offset),
            ]
            if withMessage { kafka["message"] = delivery.message }
            object["kafka"] = .object(kafka)
        }
        return .object(object)
    }

    /// Reads `{"action", "properties"?, "entity"?, "blueprint"?, "requiredApproval"?, "synchronized"?, "user"?}`;
    /// a fixture action's definition fills in what the body leaves out.
    private func newRun(from body: JSONBody) throws(PortError) -> NewRun {
        let object = try body.value.object(
            allowing: ["action", "properties", "entity", "blueprint", "requiredApproval", "synchronized", "user"]
        )
        guard let action = object["action"]?.stringValue else {
            throw .invalidRequest("body.action is required (a string)")
        }
        var run = NewRun(action: RunActionInfo(identifier: action))
        // A fixture action lends its title, blueprint and approval rule; the body may override them.
        let definition = try? catalog.action(action)
        if let definition {
            run.action = RunActionInfo(identifier: action, title: definition.title, icon: definition.icon)
            run.blueprintIdentifier = definition.blueprintIdentifier
            run.blueprintTitle = definition.blueprintIdentifier.flatMap { try? catalog.blueprint($0).title }
            run.requiredApproval = definition.requiredApproval
            run.synchronized = definition.invocation.synchronized
        }
        if let properties = object["properties"] {
            guard let value = properties.objectValue else { throw .invalidRequest("body.properties must be an object") }
            run.properties =
                try definition?.encryptingSecretInputs(value, clientSecret: clientSecret) ?? value
        }
        run.entityIdentifier = object["entity"]?.stringValue
        if let blueprint = object["blueprint"]?.stringValue {
            run.blueprintIdentifier = blueprint
            run.blueprintTitle = nil
        }
        if let entity = run.entityIdentifier, let blueprint = run.blueprintIdentifier {
            run.entityTitle = try? runs.entity(entity, of: blueprint).title
        }
        run.requiredApproval = object["requiredApproval"]?.boolValue ?? run.requiredApproval
        run.synchronized = object["synchronized"]?.boolValue ?? run.synchronized
        if let user = object["user"]?.stringValue { run.createdBy = user }
        return run
    }
}

extension JournalEntry {
    var json: JSONValue {
        [
            "time": PortTimestamp.format(time), "clientId": clientID.map(JSONValue.string) ?? .null,
            "method": .string(method), "path": .string(path), "status": .int(Int64(status)),
            "runId": runID.map(JSONValue.string) ?? .null, "injected": injected.map(JSONValue.string) ?? .null,
        ]
    }
}

extension Violation {
    var json: JSONValue {
        [
            "time": PortTimestamp.format(time), "clientId": clientID.map(JSONValue.string) ?? .null,
            "method": .string(method), "path": .string(path), "runId": runID.map(JSONValue.string) ?? .null,
            "status": .int(Int64(status)), "error": .string(code), "rule": .string(rule), "message": .string(message),
        ]
    }
}

/// The query of `GET /_emulator/runs/{id}/wait`: `timeout` (default 30s, at most 10m), and
/// `status` (wait for it, or for the run to finish) or `after` (wait for any change past
/// that version); with neither, wait for the run to finish.
private struct WaitRequest {
    var timeout: Duration = .seconds(30)
    var status: RunStatus?
    var after: Int?

    init(_ request: HTTPRequest) throws(PortError) {
        if let text = request.query("timeout") { timeout = try Self.timeout(text, field: "querystring.timeout") }
        if let text = request.query("status") {
            guard let value = RunStatus(rawValue: text) else {
                throw .invalidRequest(
                    "querystring.status must be one of \(RunStatus.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            status = value
        }
        after = try integerQuery(request, "after", in: 0...Int.max)
    }

    /// A wait's `timeout`: a duration of at most 10 minutes.
    static func timeout(_ text: String, field: String) throws(PortError) -> Duration {
        guard let duration = DurationText.parse(text), duration <= .seconds(600) else {
            throw .invalidRequest("\(field) must be a duration up to 10m, e.g. 500ms or 30s (got \"\(text)\")")
        }
        return duration
    }
}
