import Consumer
import Emulator
import Foundation
import Logging
import PortCatalog
import PortContract
import PortKafka
import Prometheus
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

let quietLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

/// An emulator with the fixtures, and helpers to run consumers against it.
struct ConsumerHarness {
    let emulator: PortEmulator

    /// The embedded brokers behind the Kafka front: where the tests write as Port would
    /// (Port's ACLs refuse the customer's produce through the front).
    var internalBootstrap: String { emulator.internalKafkaBootstrapServers ?? emulator.info.kafkaBootstrapServers }

    /// Starts an emulator, runs `body` with it, and stops it however `body` ends; returns
    /// `body`'s value once the emulator has stopped.
    static func run<Value: Sendable>(
        configure: (inout EmulatorConfiguration) -> Void = { _ in },
        _ body: @escaping @Sendable (ConsumerHarness) async throws -> Value
    ) async throws -> Value {
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        configuration.orgID = "org_consumer"
        configuration.fixtures = try Fixtures.load(from: fixturesDirectory)
        configure(&configuration)
        return try await PortEmulator.withRunning(configuration: configuration, logger: quietLogger) { emulator in
            try await body(ConsumerHarness(emulator: emulator))
        }
    }

    func client(refreshMargin: Duration = .seconds(60)) -> PortClient {
        var retry = RetryPolicy()
        retry.baseDelay = .milliseconds(20)
        return PortClient(
            apiURL: emulator.info.apiURL,
            clientID: emulator.info.clientID,
            clientSecret: emulator.info.clientSecret,
            retry: retry,
            refreshMargin: refreshMargin,
            logger: quietLogger
        )
    }

    /// A consumer in `group` with quick group settings for the embedded cluster.
    func consumer(
        runtime: RunRuntime,
        group: String = "org_consumer.tests",
        grace: Duration = .seconds(10),
        deadLetterTopic: String? = nil,
        changeHandlers: [String: ChangeHandler] = [:],
        metrics: ConsumerMetrics = ConsumerMetrics()
    ) throws -> PortConsumer {
        var configuration = KafkaConsumerConfiguration(
            bootstrapServers: [emulator.info.kafkaBootstrapServers],
            groupID: group
        )
        configuration.heartbeatInterval = .milliseconds(200)
        // The broker long-polls: librdkafka's own fetch wait (500 ms) delays nothing.
        configuration.additionalProperties = ["reconnect.backoff.ms": "50"]
        var settings = PortConsumer.Settings(runsTopic: emulator.info.runsTopic)
        settings.shutdownGracePeriod = grace
        settings.signingSecret = emulator.info.clientSecret
        settings.deadLetterTopic = deadLetterTopic
        settings.changeLogTopic = changeHandlers.isEmpty ? nil : emulator.info.changeLogTopic
        return PortConsumer(
            consumer: try KafkaConsumer.make(configuration: configuration, logger: quietLogger),
            // Port's ACLs give the customer no Write: a dead-letter topic lives on a Kafka the
            // customer may write to, here the brokers behind the front.
            deadLetters: try deadLetterTopic.map { _ in
                try KafkaProducer.make(
                    configuration: KafkaProducerConfiguration(bootstrapServers: [internalBootstrap]),
                    logger: quietLogger
                )
            },
            runtime: runtime,
            changeHandlers: changeHandlers,
            settings: settings,
            metrics: metrics,
            logger: quietLogger
        )
    }

    /// Triggers a run through Port's API and returns its id.
    func trigger(_ action: String, _ inputs: JSONObject, entity: String? = nil) async throws -> String {
        let client = EmulatorClientForTests(emulator: emulator)
        return try await client.trigger(action, inputs, entity: entity)
    }

    /// Waits until the run is finished and returns it.
    func finished(_ runID: String, within limit: Duration = .seconds(30)) async throws -> ActionRun {
        let result = try await emulator.runs.wait(for: runID, timeout: limit) { $0.isLocked }
        guard result.reached else { throw RunDidNotFinish(runID: runID, status: result.run.status) }
        return result.run
    }
}

/// A run that was still going at the deadline.
struct RunDidNotFinish: Error, CustomStringConvertible {
    let runID: String
    let status: RunStatus
    var description: String { "run \(runID) is still \(status.rawValue)" }
}

/// Triggers runs through the emulator's public API, with the raw-socket test client.
struct EmulatorClientForTests {
    let emulator: PortEmulator

    func trigger(_ action: String, _ inputs: JSONObject, entity: String?) async throws -> String {
        let client = JSONTestClient(baseURL: emulator.info.apiBaseURL)
        let token = try await client.token(
            clientID: "emulator-client-id",
            clientSecret: EmulatorConfiguration.defaultClientSecret
        )
        var body: JSONObject = ["properties": .object(inputs)]
        body["entity"] = entity.map(JSONValue.string)
        let answer = try await client.call(
            "POST",
            "/v1/actions/\(action)/runs",
            token: token,
            body: JSONValue.object(body).compactText
        ).json
        guard let id = answer["run"]?["id"]?.stringValue else {
            throw RunDidNotFinish(runID: "(\(answer.compactText))", status: .failure)
        }
        return id
    }
}

/// Runs a consumer in a service group until the test ends it.
final class Running: Sendable {
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    init(_ consumer: PortConsumer) {
        let group = ServiceGroup(services: [consumer], logger: quietLogger)
        self.group = group
        task = Task { try await group.run() }
    }

    /// Stops it with a graceful shutdown (reading stops, in-flight runs get the grace
    /// period) and waits until every run has ended.
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
    }
}

@Suite("port-consumer against the emulator and its embedded Kafka", .serialized, .heavy, .timeLimit(.minutes(10)))
struct ConsumerIntegrationTests {
    @Test(
        "fixture scripts run to SUCCESS with logs, links and an entity; failures and unknown actions end as FAILURE; poison is skipped"
    )
    func endToEnd() async throws {
        try await ConsumerHarness.run { harness in
            let client = harness.client()
            let handlers = try HandlerFile.load(
                "\(fixturesDirectory)/handlers/handlers.json",
                signingSecret: harness.emulator.info.clientSecret
            )
            let runtime = RunRuntime(
                client: client,
                handlers: handlers.actions,
                nodeHandlers: handlers.nodes,
                logger: quietLogger
            )
            let registry = PrometheusCollectorRegistry()
            let consumer = try harness.consumer(
                runtime: runtime,
                metrics: ConsumerMetrics(factory: PrometheusMetricsFactory(registry: registry))
            )
            let running = Running(consumer)

            let vm = try await harness.trigger("create_vm", ["name": "vm-7", "cpu": 4])
            let vmRun = try await harness.finished(vm)
            #expect(vmRun.status == .success)
            #expect(vmRun.links == ["https://cloud.example.com/vms/vm-7"])
            #expect(vmRun.summary == "vm-7 is up")
            #expect(vmRun.affectedEntities.map(\.identifier) == ["vm-7"])
            #expect(
                try harness.emulator.runs.entity("vm-7", of: "vm").properties == [
                    "cpu": 4, "memoryGiB": 4, "region": "eu-west-1",
                ]
            )
            let logs = try harness.emulator.runs.logs(vm).map(\.message)
            #expect(logs.first == "port-consumer started create_vm")
            #expect(logs.contains { $0.contains("Provisioning vm-7 with 4 vCPUs") })
            #expect(logs.last == "vm-7 is up")

            _ = try harness.emulator.runs.writeEntity(
                EntityBody(identifier: "api"),
                of: try harness.emulator.catalog.model("service"),
                models: harness.emulator.catalog.models,
                options: EntityWriteOptions(mode: .create(upsert: false, merge: false), client: "test")
            )
            let rollback = try await harness.trigger("rollback_service", [:], entity: "api")
            let failed = try await harness.finished(rollback)
            #expect(failed.status == .failure)
            let failure = try #require(try harness.emulator.runs.logs(rollback).last?.message)
            #expect(failure.contains("exited with status 3"))
            #expect(failure.contains("no previous release of api to roll back to"))

            // Poison on the topic, then an action nobody handles: both are dealt with, in order.
            let producer = try KafkaProducer.make(
                configuration: KafkaProducerConfiguration(bootstrapServers: [harness.internalBootstrap]),
                logger: quietLogger
            )
            try await producer.send(
                KafkaProducerMessage(topic: harness.emulator.info.runsTopic, key: "junk", value: "{not json")
            )
            await producer.close()
            let adminRun = harness.emulator.runs.create(NewRun(action: RunActionInfo(identifier: "not_handled")))
            await harness.emulator.publisher.publish(runID: adminRun.id)
            let unhandled = try await harness.finished(adminRun.id)
            #expect(unhandled.status == .failure)
            #expect(try harness.emulator.runs.logs(adminRun.id).last?.message == "no handler for action not_handled")
            // The failed rollback fired the alert_rollback_failure fixture automation: its run is
            // the fourth, and the consumer finishes it too.
            let alertRun = { @Sendable in
                harness.emulator.runs.runs.first { $0.request.action.identifier == "alert_rollback_failure" }
            }
            try await waitUntil("the failed rollback's automation run") { alertRun() != nil }
            let alert = try #require(alertRun())
            #expect(alert.request.source == .automation)
            #expect(try await harness.finished(alert.id).status == .success)
            try await waitUntil("the consumer to count every run") { consumer.outcomes.values.reduce(0, +) == 4 }
            #expect(consumer.outcomes == [.succeeded: 2, .failed: 2])
            let exposition = registry.emitToString()
            #expect(
                exposition.contains(#"port_consumer_runs_total{action="create_vm",outcome="succeeded"} 1"#),
                "\(exposition)"
            )
            #expect(exposition.contains(#"port_consumer_runs_total{action="not_handled",outcome="failed"} 1"#))
            #expect(exposition.contains("port_consumer_poison_messages_total 1"))
            #expect(exposition.contains("port_consumer_run_duration_seconds_count{action=\"create_vm\"} 1"))
            #expect(harness.emulator.recorder.violations.isEmpty, "the consumer broke none of Port's rules")
            await running.stop()
            await client.shutdown()
        }
    }
}

@Suite("port-consumer's resilience", .serialized, .heavy, .timeLimit(.minutes(10)))
struct ConsumerResilienceTests {
    @Test(
        "an expired token is fetched again once; 429s beyond the attempts (not counted) and 5xx answers are retried to SUCCESS"
    )
    func retries() async throws {
        try await ConsumerHarness.run { harness in
            let client = harness.client(refreshMargin: .zero)
            let handler: RunHandler = { context in
                try await context.log("step 1")
                try await context.log("step 2")
            }
            let consumer = try harness.consumer(
                runtime: RunRuntime(client: client, handlers: ["create_vm": handler], logger: quietLogger)
            )
            let running = Running(consumer)
            let api = JSONTestClient(baseURL: harness.emulator.info.apiBaseURL)
            _ = try await api.call(
                "POST",
                "/_emulator/faults",
                body: #"{"status":429,"retryAfter":0,"count":8,"method":"POST","path":"/v1/actions/runs/"}"#
            )
            _ = try await api.call(
                "POST",
                "/_emulator/faults",
                body: #"{"status":503,"count":2,"method":"POST","path":"/v1/actions/runs/"}"#
            )
            let first = try await harness.trigger("create_vm", ["name": "vm-1"])
            #expect(try await harness.finished(first).status == .success)
            let statuses = harness.emulator.recorder.journal.filter { $0.runID == first }.map(\.status)
            // 8 429s and 2 503s on the first log: more than the 6 attempts, as 429s do not count.
            #expect(statuses.filter { $0 == 429 }.count == 8)
            #expect(statuses.filter { $0 == 503 }.count == 2)
            #expect(
                try harness.emulator.runs.logs(first).map(\.message) == [
                    "port-consumer started create_vm", "step 1", "step 2", "Succeeded",
                ]
            )

            _ = try await api.call("POST", "/_emulator/tokens/expire", body: "")
            let second = try await harness.trigger("create_vm", ["name": "vm-2"])
            #expect(try await harness.finished(second).status == .success)
            #expect(await client.tokensFetched == 2)
            #expect(harness.emulator.recorder.journal.contains { $0.runID == second && $0.status == 401 })
            #expect(
                harness.emulator.recorder.violations.allSatisfy { $0.status == 401 },
                "only the expired token was refused"
            )
            await running.stop()
            await client.shutdown()
        }
    }

    @Test("a consumer stopped mid-run and replaced completes the run exactly once")
    func redelivery() async throws {
        try await ConsumerHarness.run { harness in
            let client = harness.client()
            let attempts = Attempts()
            let firstCancelled = Attempts()
            let handler: RunHandler = { context in
                if attempts.next() == 1 {
                    // The first attempt hangs past the grace period; the shutdown cancels it.
                    do {
                        try await waitUntil("a release that never comes", within: .seconds(60)) { false }
                    } catch is CancellationError {
                        _ = firstCancelled.next()
                        throw CancellationError()
                    }
                }
                try await context.log("done by the second consumer")
            }
            let runtime = RunRuntime(client: client, handlers: ["create_vm": handler], logger: quietLogger)
            let first = Running(try harness.consumer(runtime: runtime, grace: .milliseconds(200)))
            let runID = try await harness.trigger("create_vm", ["name": "vm-1"])
            try await waitUntil("the first consumer to start the run") { attempts.count == 1 }
            await first.stop()
            // The cut-off attempt was cancelled and reported nothing: the run waits for another.
            #expect(firstCancelled.count == 1)
            #expect(try harness.emulator.runs.run(runID).status == .inProgress)

            let second = Running(try harness.consumer(runtime: runtime))
            #expect(try await harness.finished(runID).status == .success)
            // A stale worker elsewhere (a stalled process waking up) reporting late is refused.
            let stale = try await #require(throws: PortClient.Failure.self) {
                try await client.send(.PATCH, "/actions/runs/\(runID)", body: ["status": "FAILURE"])
            }
            #expect(stale.status == 422)
            try await waitUntil("the stale report to be journaled as refused") {
                harness.emulator.recorder.journal.contains { $0.runID == runID && $0.status == 422 }
            }
            let run = try harness.emulator.runs.run(runID)
            #expect(run.status == .success)
            let finals = try harness.emulator.runs.logs(runID).filter {
                $0.message == "Succeeded" || $0.message.contains("failed")
            }
            #expect(finals.map(\.message) == ["Succeeded"], "exactly one terminal report was accepted")
            #expect(attempts.count == 2)
            await second.stop()
            await client.shutdown()
        }
    }
}

/// Counts events (handler attempts, cancellations) across tasks.
final class Attempts: Sendable {
    private let state = Mutex(0)
    func next() -> Int {
        state.withLock {
            $0 += 1
            return $0
        }
    }
    var count: Int { state.withLock { $0 } }
}

@Suite("port-consumer's edges", .serialized, .heavy, .timeLimit(.minutes(10)))
struct ConsumerEdgeTests {
    @Test("a command past its timeout is killed and fails the run; poison is copied to the dead-letter topic")
    func timeoutAndDeadLetters() async throws {
        try await ConsumerHarness.run { harness in
            try harness.emulator.catalog.add(
                ActionDefinition(
                    definition: try JSONValue.parse(
                        #"{"identifier":"slow","trigger":"CREATE","invocationMethod":{"type":"KAFKA"}}"#
                    )
                ),
                by: "test"
            )
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "handlers-\(UUID().uuidString)"
            )
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let file = directory.appendingPathComponent("handlers.json").path
            try #"{"actions":{"slow":{"command":["sh","-c","echo starting; sleep 300"],"timeout":"500ms"}}}"#
                .write(toFile: file, atomically: true, encoding: .utf8)
            let client = harness.client()
            let handlers = try HandlerFile.load(file, signingSecret: harness.emulator.info.clientSecret)
            // The embedded cluster creates no topics on demand: the (here unused) change log
            // stands in for a dead-letter topic.
            let deadLetters = harness.emulator.info.changeLogTopic
            let consumer = try harness.consumer(
                runtime: RunRuntime(client: client, handlers: handlers.actions, logger: quietLogger),
                deadLetterTopic: deadLetters
            )
            let running = Running(consumer)
            let runID = try await harness.trigger("slow", [:])
            // The command sleeps 300 s: a run that ends within finished()'s deadline was killed
            // (no wall-clock bound, which a loaded machine overran: 10.8 s against 10 s).
            let run = try await harness.finished(runID)
            #expect(run.status == .failure)
            let logs = try harness.emulator.runs.logs(runID).map(\.message)
            #expect(logs.contains("starting"))
            #expect(logs.last?.contains("timed out after 0.5 seconds and was killed") == true, "\(logs)")

            let producer = try KafkaProducer.make(
                configuration: KafkaProducerConfiguration(bootstrapServers: [harness.internalBootstrap]),
                logger: quietLogger
            )
            try await producer.send(
                KafkaProducerMessage(topic: harness.emulator.info.runsTopic, key: "junk", value: "nope")
            )
            await producer.close()
            let reader = KafkaConsumerConfiguration(
                bootstrapServers: [harness.internalBootstrap],
                groupID: "reader"
            )
            let dead = try KafkaConsumer.make(configuration: reader, logger: quietLogger)
            try dead.assign((0..<3).map { KafkaTopicPartition(topic: deadLetters, partition: Int32($0)) })
            let copied: KafkaConsumerMessage? = try await withDeadline(.seconds(20), "the dead-letter copy") {
                for try await message in dead.messages { return message }
                return nil
            }
            #expect(copied?.valueString == "nope")
            #expect(copied?.headers.contains { $0.key == "port-consumer-reason" } == true)
            await dead.close()
            await running.stop()
            await client.shutdown()
        }
    }
}

@Suite("port-consumer and the change log", .serialized, .heavy, .timeLimit(.minutes(10)))
struct ChangeLogConsumerTests {
    @Test("entity changes reach the command handler of their blueprint, with the run that made them")
    func changeHandlers() async throws {
        try await ConsumerHarness.run { harness in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "changes-\(UUID().uuidString)"
            )
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let file = directory.appendingPathComponent("handlers.json").path
            try #"""
            {"changeLog": {"vm": {"command": ["sh", "-c",
              "cat >> events.jsonl; echo >> events.jsonl; echo \"$PORT_CHANGE_ACTION $PORT_ENTITY $PORT_RUN_ID\" >> actions.txt"]}}}
            """#.write(toFile: file, atomically: true, encoding: .utf8)
            let handlers = try HandlerFile.load(file, signingSecret: harness.emulator.info.clientSecret)
            let client = harness.client()
            let vmHandler: RunHandler = { run in
                try await run.upsertEntity(blueprint: "vm", identifier: "vm-9", properties: ["cpu": 2, "region": "eu"])
            }
            let consumer = try harness.consumer(
                runtime: RunRuntime(client: client, handlers: ["create_vm": vmHandler], logger: quietLogger),
                changeHandlers: handlers.changes
            )
            let running = Running(consumer)
            let runID = try await harness.trigger("create_vm", ["name": "vm-9"])
            #expect(try await harness.finished(runID).status == .success)
            let actions = directory.appendingPathComponent("actions.txt").path
            try await waitUntil("the change handler to run") { FileManager.default.fileExists(atPath: actions) }
            let lines = String(decoding: FileManager.default.contents(atPath: actions) ?? Data(), as: UTF8.self)
            #expect(lines == "CREATE vm-9 \(runID)\n")
            let event = try EntityChangeEvent(
                parsing: Array(
                    (FileManager.default.contents(atPath: directory.appendingPathComponent("events.jsonl").path)
                        ?? Data())
                )
            )
            #expect(event.after?["properties"] == ["cpu": 2, "region": "eu"])
            #expect(event.before == nil)
            await running.stop()
            await client.shutdown()
        }
    }
}

@Suite("port-consumer and workflow nodes", .serialized, .heavy, .timeLimit(.minutes(10)))
struct WorkflowNodeConsumerTests {
    @Test("a workflow's KAFKA node is handled by its node handler and completed through the node-run routes")
    func workflowNode() async throws {
        try await ConsumerHarness.run { harness in
            let client = harness.client()
            let handlers = try HandlerFile.load(
                "\(fixturesDirectory)/handlers/handlers.json",
                signingSecret: harness.emulator.info.clientSecret
            )
            let consumer = try harness.consumer(
                runtime: RunRuntime(
                    client: client,
                    handlers: handlers.actions,
                    nodeHandlers: handlers.nodes,
                    logger: quietLogger
                )
            )
            let running = Running(consumer)
            let api = JSONTestClient(baseURL: harness.emulator.info.apiBaseURL)
            let started = try await api.call(
                "POST",
                "/_emulator/workflows/provision_environment/runs",
                body: #"{"inputs":{"name":"preview-3"}}"#
            ).json
            let runID = try #require(started["workflowRun"]?["id"]?.stringValue)
            let nodeRunID = try #require(
                started["workflowRun"]?["nodeRuns"]?.arrayValue?.first { $0["node"] == "provision" }?["id"]?.stringValue
            )
            try await waitUntil("the node run to complete") {
                (try? harness.emulator.workflowRuns.nodeRun(nodeRunID).status) == .completed
            }
            let nodeRun = try harness.emulator.workflowRuns.nodeRun(nodeRunID)
            #expect(nodeRun.result == .success)
            #expect(nodeRun.links == ["https://envs.example.com/preview-3"])
            #expect(nodeRun.logs.contains { $0.message.contains("Provisioning from") })
            #expect(nodeRun.workflowRunID == runID)
            await running.stop()
            await client.shutdown()
        }
    }
}
