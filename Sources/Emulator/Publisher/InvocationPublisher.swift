import Logging
import PortCatalog
package import PortContract
package import PortKafka
import ServiceLifecycle
import StateLog

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Publishes what Port publishes: run invocations to `ORG_ID.runs` (keyed by run id) and
/// entity changes to `ORG_ID.change.log`.
///
/// A run is published only once it exists in the RunStore, and only when it is not waiting
/// for an approval. A run whose invocation cannot be rendered or delivered ends as
/// `FAILURE` with a log saying why. Change-log messages go out one at a time, in order.
package final class InvocationPublisher: Sendable {
    private let producer: KafkaProducer
    private let runs: RunStore
    private let catalog: Catalog
    private let settings: Settings
    private let renderer = PayloadTemplateRenderer()
    private let changes: AsyncStream<ChangeJob>.Continuation
    private let changeJobs: AsyncStream<ChangeJob>
    /// Publications scheduled by routes and automations, children of `run()`.
    private let publications = ChildTasks()
    private let logger: Logger
    /// Where invocations wait while the organization polls instead of reading Kafka.
    let polling: PollingQueue
    /// Whether the organization gets its work by HTTP polling now (port-agent's
    /// `portAgentStreamerName: POLLING`): then nothing is published to the runs topic.
    let deliversByPolling: @Sendable () -> Bool

    /// What the publisher needs to know about the organization.
    struct Settings: Sendable {
        let orgID: String
        let runsTopic: String
        let changeLogTopic: String
        /// The key of the agent signatures (Port signs with the client secret).
        let clientSecret: String
        /// `.secrets` of the template context, read at each render.
        let secrets: SecretStore
        /// `--state-dir`'s log: written before a message goes out, so that no consumer acts
        /// on a run whose creation a crash could still lose.
        var stateLog: StateLog? = nil
    }

    private struct ChangeJob: Sendable {
        let message: JSONObject
        let key: String
    }

    init(
        producer: KafkaProducer,
        runs: RunStore,
        catalog: Catalog,
        settings: Settings,
        polling: PollingQueue = PollingQueue(),
        deliversByPolling: @escaping @Sendable () -> Bool = { false },
        logger: Logger
    ) {
        self.polling = polling
        self.deliversByPolling = deliversByPolling
        self.producer = producer
        self.runs = runs
        self.catalog = catalog
        self.settings = settings
        self.logger = logger
        (changeJobs, changes) = AsyncStream<ChangeJob>.makeStream()
    }

    /// Publishes what is scheduled until a graceful shutdown, then finishes what was
    /// scheduled before it: the runs' invocations concurrently, the change log one message
    /// at a time, in order.
    package func run() async {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.publications.run() }
                for await job in changeJobs {
                    do {
                        try await producer.send(
                            KafkaProducerMessage(
                                topic: settings.changeLogTopic,
                                key: Array(job.key.utf8),
                                value: JSONValue.object(job.message).compactBytes
                            )
                        )
                    } catch {
                        logger.error("change-log message lost", metadata: ["key": "\(job.key)", "error": "\(error)"])
                    }
                }
            }
        } onGracefulShutdown: { [self] in
            finish()
        }
    }

    /// Publishes the run's invocation in the background (see `publish(runID:)`); while the
    /// organization polls, queues it for `claim-pending` at once instead, so a run is
    /// claimable as soon as the call that created it has answered.
    func schedule(runID: String) {
        if deliversByPolling() {
            _ = prepare(runID: runID, byPolling: true)
        } else {
            publications.add { [self] in _ = await publish(runID: runID, byPolling: false) }
        }
    }

    /// Renders and publishes the invocation of a run that is `IN_PROGRESS`; does nothing
    /// for a run that waits for approval, is finished, or is not delivered through Kafka.
    /// Returns the delivery, or `nil` when nothing was published.
    @discardableResult
    package func publish(runID: String) async -> KafkaDeliveryReport? {
        await publish(runID: runID, byPolling: deliversByPolling())
    }

    private func publish(runID: String, byPolling: Bool) async -> KafkaDeliveryReport? {
        guard let message = prepare(runID: runID, byPolling: byPolling) else { return nil }
        do {
            return try await publishRaw(message, runID: runID)
        } catch {
            runs.fail(
                runID,
                reason: "port-emulator could not publish the invocation to \(settings.runsTopic): \(error)"
            )
            return nil
        }
    }

    /// The run's message, to publish: `nil` when there is none (the run is not in progress
    /// or not delivered through Kafka), when rendering failed (the run is then FAILURE), or
    /// when it was queued for polling instead.
    private func prepare(runID: String, byPolling: Bool) -> JSONValue? {
        guard let run = try? runs.run(runID), run.status == .inProgress else { return nil }
        if let action = definition(for: run), action.invocation.type == "INTEGRATION_ACTION" {
            queueForIntegration(run, action: action)
            return nil
        }
        guard let action = definition(for: run), action.invocation.isDeliveredThroughKafka else {
            logger.debug("not a Kafka action; nothing published", metadata: ["run": "\(runID)"])
            return nil
        }
        let message: JSONValue
        do {
            message = try render(run: run, action: action)
        } catch {
            runs.fail(runID, reason: "port-emulator could not render the invocation: \(error)")
            return nil
        }
        guard byPolling else { return message }
        var method = action.definition["invocationMethod"]?.objectValue ?? ["type": .string(action.invocation.type)]
        method["payload"] = nil
        method["body"] = message
        polling.enqueue(
            runID,
            kind: .run,
            invocationType: action.invocation.type,
            payload: ["payload": .object(method)],
            at: Date()
        )
        return nil
    }

    /// Queues an integration action's run for its integration's `claim-pending` (Ocean's
    /// actions processor), whatever the organization's streamer: its `payload` is the
    /// invocation method with `integrationActionExecutionProperties` rendered as a payload
    /// template is. A template that fails makes the run FAILURE.
    private func queueForIntegration(_ run: ActionRun, action: ActionDefinition) {
        var method = action.definition["invocationMethod"]?.objectValue ?? [:]
        let entity = run.request.entityIdentifier.flatMap { identifier in
            run.request.blueprintIdentifier.flatMap { try? runs.entity(identifier, of: $0) }
        }
        let context = InvocationMessages.templateContext(
            run: run,
            action: action,
            entity: entity,
            orgID: settings.orgID,
            secrets: settings.secrets.values
        )
        do {
            method["integrationActionExecutionProperties"] = try renderer.render(
                method["integrationActionExecutionProperties"] ?? [:],
                context: context
            )
        } catch {
            runs.fail(run.id, reason: "port-emulator could not render integrationActionExecutionProperties: \(error)")
            return
        }
        polling.enqueue(
            run.id,
            kind: .run,
            invocationType: "INTEGRATION_ACTION",
            payload: ["payload": .object(method)],
            installation: method["installationId"]?.stringValue,
            at: Date()
        )
    }

    /// The message Port publishes for the run: its payload template rendered, or the legacy
    /// message; signed when the action goes to Port's execution agent.
    func render(run: ActionRun, action: ActionDefinition) throws(PayloadTemplateError) -> JSONValue {
        let entity = run.request.entityIdentifier.flatMap { identifier in
            run.request.blueprintIdentifier.flatMap { try? runs.entity(identifier, of: $0) }
        }
        var message: JSONValue
        if let event = run.request.automationEvent {
            message = try renderAutomation(run: run, action: action, event: event, entity: entity)
        } else if let template = action.invocation.payloadTemplate {
            let context = InvocationMessages.templateContext(
                run: run,
                action: action,
                entity: entity,
                orgID: settings.orgID,
                secrets: settings.secrets.values
            )
            message = try renderer.render(template, context: context)
        } else {
            message = .object(
                InvocationMessages.legacy(run: run, action: action, entity: entity, orgID: settings.orgID)
            )
        }
        if action.invocation.type == "WEBHOOK", action.invocation.agent, let object = message.objectValue {
            message = .object(PortSignature.signed(object, secret: settings.clientSecret, at: Date()))
        }
        return message
    }

    /// An automation's message: its template rendered with §7's context, or (the
    /// emulator's choice, as Port documents no default) the legacy run message with the
    /// event added.
    private func renderAutomation(
        run: ActionRun,
        action: ActionDefinition,
        event: JSONValue,
        entity: Entity?
    ) throws(PayloadTemplateError) -> JSONValue {
        let by = InvocationMessages.triggeredBy(
            run.request.createdBy,
            orgID: settings.orgID,
            record: run.request.user
        )
        guard let template = action.invocation.payloadTemplate else {
            var message = InvocationMessages.legacy(run: run, action: action, entity: entity, orgID: settings.orgID)
            message["event"] = event
            return .object(message)
        }
        let context: JSONValue = [
            "inputs": .null,
            "entity": .null,
            "action": ["identifier": .string(action.identifier)],
            "run": ["id": .string(run.id)],
            "trigger": ["by": by, "origin": "AUTOMATION", "at": PortTimestamp.format(run.createdAt)],
            "event": event,
            "secrets": .object(settings.secrets.values),
        ]
        return try renderer.render(template, context: context)
    }

    /// Publishes an entity change to the change log when its blueprint asks for one.
    func schedule(_ change: EntityChange, of blueprint: Blueprint, by client: String) {
        guard let entity = change.after ?? change.before else { return }
        scheduleChangeLog(
            InvocationMessages.entityChange(change, orgID: settings.orgID, by: client, at: Date()),
            key: entity.identifier,
            of: blueprint
        )
    }

    /// Publishes a change-log message keyed by `key`, when the blueprint asks for a change log.
    func scheduleChangeLog(_ message: JSONObject, key: String, of blueprint: Blueprint) {
        guard blueprint.publishesChangeLog else { return }
        changes.yield(ChangeJob(message: message, key: key))
    }

    /// Publishes a KAFKA node run in the background, as a child of `run()` (see `publish(nodeRun:…)`).
    func schedule(
        nodeRun: WorkflowNodeRun,
        of run: WorkflowRuns.Run,
        workflow: WorkflowDefinition,
        in store: WorkflowRuns,
        byPolling: Bool
    ) {
        publications.add { [self] in
            _ = await publish(nodeRun: nodeRun, of: run, workflow: workflow, in: store, byPolling: byPolling)
        }
    }

    /// Publishes a KAFKA node run: its payload template rendered, wrapped with the run's
    /// metadata, keyed by the node run id. A template or publish failure completes the node
    /// run as FAILED with an ERROR log.
    @discardableResult
    func publish(
        nodeRun: WorkflowNodeRun,
        of run: WorkflowRuns.Run,
        workflow: WorkflowDefinition,
        in store: WorkflowRuns,
        byPolling: Bool? = nil
    ) async -> KafkaDeliveryReport? {
        var outputs = JSONObject()
        outputs[workflow.trigger.identifier] = .object(run.inputs)
        let context: JSONValue = [
            "outputs": .object(outputs),
            "trigger": [
                "by": InvocationMessages.triggeredBy(run.triggeredBy, orgID: settings.orgID),
                "at": PortTimestamp.format(run.createdAt),
            ],
            "workflowRun": ["id": .string(run.id)],
            "secrets": .object(settings.secrets.values),
        ]
        let failure: String
        do {
            let template = workflow.kafkaNodes.first { $0.identifier == nodeRun.node }?.payload ?? [:]
            let rendered = try renderer.render(template, context: context)
            let message: JSONValue = [
                "payload": rendered,
                "context": [
                    "workflowRunId": .string(run.id), "nodeRunId": .string(nodeRun.id),
                    "workflow": .string(workflow.identifier), "node": .string(nodeRun.node),
                ],
            ]
            if byPolling ?? deliversByPolling() {
                polling.enqueue(
                    nodeRun.id,
                    kind: .nodeRun,
                    invocationType: "KAFKA",
                    payload: ["config": ["type": "KAFKA", "payload": rendered], "body": message],
                    at: Date()
                )
                return nil
            }
            return try await producer.send(
                KafkaProducerMessage(
                    topic: settings.runsTopic,
                    key: Array(nodeRun.id.utf8),
                    value: message.compactBytes
                )
            )
        } catch let error as PayloadTemplateError {
            failure = "port-emulator could not render the node's payload: \(error)"
        } catch {
            failure = "port-emulator could not publish the node run to \(settings.runsTopic): \(error)"
        }
        _ = try? store.appendLogs(nodeRun.id, [("ERROR", failure)])
        _ = try? store.patch(nodeRun.id, NodeRunPatch(status: .completed, result: .failed))
        return nil
    }

    /// Publishes `message` as it is to the runs topic, keyed by `runID`, and notes the
    /// delivery on the run (its partition, offset and the message itself).
    package func publishRaw(_ message: JSONValue, runID: String) async throws -> KafkaDeliveryReport {
        try settings.stateLog?.flush()
        let report = try await producer.send(
            KafkaProducerMessage(topic: settings.runsTopic, key: Array(runID.utf8), value: message.compactBytes)
        )
        runs.recordDelivery(
            runID,
            RunDelivery(topic: report.topic, partition: report.partition, offset: report.offset, message: message)
        )
        return report
    }

    /// Stops taking change-log messages and waits until those queued are sent.
    /// Takes no more work; `run()` returns once what was scheduled is published.
    private func finish() {
        changes.finish()
        publications.finish()
    }

    /// The run's action: the catalog's definition, or a minimal KAFKA action for a run
    /// created through the admin API with an action the fixtures do not define.
    private func definition(for run: ActionRun) -> ActionDefinition? {
        if let action = try? catalog.action(run.request.action.identifier) { return action }
        var definition: JSONObject = [
            "identifier": .string(run.request.action.identifier),
            "trigger": .string(run.request.entityIdentifier == nil ? "CREATE" : "DAY-2"),
            "invocationMethod": ["type": "KAFKA"],
        ]
        definition["title"] = run.request.action.title.map(JSONValue.string)
        definition["blueprint"] = run.request.blueprintIdentifier.map(JSONValue.string)
        return try? ActionDefinition(definition: .object(definition))
    }
}
