package import Logging
import PortContract
package import PortKafka
public import ServiceLifecycle
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The consumer: reads `ORG_ID.runs`, runs up to `concurrency` invocations at a time, and
/// commits each partition's offsets in order once their runs are reported (at-least-once).
///
/// A message that cannot be parsed is logged with its position, optionally copied to a
/// dead-letter topic, and committed. On a graceful shutdown it stops fetching, lets runs in
/// progress finish within `shutdownGracePeriod`, commits and leaves the group.
public final class PortConsumer: Service, Sendable {
    /// How the consumer runs.
    public struct Settings: Sendable {
        /// The invocations topic.
        public var runsTopic: String
        /// Runs handled at the same time.
        public var concurrency = 16
        /// How long in-flight runs may take to finish on shutdown.
        public var shutdownGracePeriod: Duration = .seconds(30)
        /// Where poison messages are copied, if anywhere.
        public var deadLetterTopic: String?
        /// Reject messages whose `X-Port-Signature` does not match this secret.
        public var signingSecret: String?
        /// The change-log topic to subscribe to as well, for the change handlers.
        public var changeLogTopic: String?

        /// Settings for the org's runs topic.
        public init(runsTopic: String) {
            self.runsTopic = runsTopic
        }
    }

    private let consumer: KafkaConsumer
    private let deadLetters: KafkaProducer?
    private let runtime: RunRuntime
    private let changeHandlers: [String: ChangeHandler]
    private let metrics: ConsumerMetrics
    private let settings: Settings
    private let logger: Logger
    private let tracker = Mutex(OffsetTracker())
    private let commits: CommitCoalescer
    private let counts = Mutex<[RunOutcome: Int]>([:])

    private let onStop: @Sendable () async -> Void

    /// A consumer reading with `consumer` (not yet subscribed) and handling with `runtime`;
    /// users build one with `make(configuration:…)`, which keeps Kafka's types out of sight.
    package convenience init(
        consumer: KafkaConsumer,
        deadLetters: KafkaProducer? = nil,
        runtime: RunRuntime,
        changeHandlers: [String: ChangeHandler] = [:],
        settings: Settings,
        metrics: ConsumerMetrics = ConsumerMetrics(),
        logger: Logger = Logger(label: "port-consumer")
    ) {
        self.init(
            consumer: consumer,
            deadLetters: deadLetters,
            runtime: runtime,
            changeHandlers: changeHandlers,
            settings: settings,
            metrics: metrics,
            logger: logger,
            onStop: {}
        )
    }

    /// As the public initializer, plus `onStop`, run once the consumer has left its group
    /// (to close what `make(configuration:…)` built for it).
    init(
        consumer: KafkaConsumer,
        deadLetters: KafkaProducer?,
        runtime: RunRuntime,
        changeHandlers: [String: ChangeHandler],
        settings: Settings,
        metrics: ConsumerMetrics,
        logger: Logger,
        onStop: @escaping @Sendable () async -> Void
    ) {
        self.onStop = onStop
        self.metrics = metrics
        self.consumer = consumer
        self.deadLetters = deadLetters
        self.runtime = runtime
        self.changeHandlers = changeHandlers
        self.settings = settings
        self.logger = logger
        commits = CommitCoalescer(consumer: consumer, logger: logger)
    }

    /// How many invocations ended each way so far.
    public var outcomes: [RunOutcome: Int] { counts.withLock { $0 } }

    /// Consumes until a graceful shutdown, then drains, commits and leaves the group.
    ///
    /// Runs are children of this call, at most `concurrency` at a time. On a graceful shutdown
    /// reading stops and runs in progress get `shutdownGracePeriod` to finish; those still
    /// going are then cancelled: a cancelled run is not reported, its offset stays uncommitted
    /// and it is delivered again. Cancelling this call cancels runs at once, the same way.
    /// It returns once every run has ended.
    public func run() async throws {
        try consumer.subscribe(topics: [settings.runsTopic] + (settings.changeLogTopic.map { [$0] } ?? []))
        logger.info(
            "consuming",
            metadata: ["topic": "\(settings.runsTopic)", "concurrency": "\(settings.concurrency)"]
        )
        let slots = RunSlots(limit: settings.concurrency)
        await withDiscardingTaskGroup { runs in
            let (arrivals, handoff) = AsyncStream.makeStream(of: KafkaConsumerMessage.self)
            runs.addTask {
                defer { handoff.finish() }
                // A graceful shutdown stops the reader only; the runs are its siblings.
                try? await cancelWhenGracefulShutdown { try await self.read(into: handoff, slots: slots) }
            }
            for await message in arrivals {
                runs.addTask {
                    await self.process(message)
                    slots.release()
                }
            }
            if await !slots.waitUntilIdle(within: settings.shutdownGracePeriod) {
                logger.warning(
                    "runs still in progress after the grace period are cancelled; they will be delivered again"
                )
                runs.cancelAll()
            }
            await commits.flush()
            // Leave the group now, so that another member takes the partitions while the
            // cancelled runs wind down; their commits could not count any more.
            await consumer.close()
        }
        await onStop()
        logger.info("stopped", metadata: ["outcomes": "\(outcomes)"])
    }

    /// The reader: takes a slot for each message, then hands it to `run()` to start.
    private func read(into handoff: AsyncStream<KafkaConsumerMessage>.Continuation, slots: RunSlots) async throws {
        do {
            for try await message in consumer.messages {
                guard await slots.acquire() else { return }  // cancelled while all were busy
                tracker.withLock { $0.started(partition: message.partition, offset: message.offset) }
                handoff.yield(message)
            }
        } catch {
            if !Task.isCancelled { logger.error("reading stopped", metadata: ["error": "\(error)"]) }
        }
    }

    /// Handles one message and commits what became committable.
    private func process(_ message: KafkaConsumerMessage) async {
        let position: Logger.Metadata = [
            "topic": "\(message.topic)", "partition": "\(message.partition)", "offset": "\(message.offset)",
        ]
        do {
            if message.topic == settings.changeLogTopic {
                try await handleChange(message)
                return await markDone(message)
            }
            let invocation = try InvocationParser.parse(message.value ?? [], signingSecret: settings.signingSecret)
            let started = ContinuousClock.now
            let outcome = try await runtime.handle(invocation)
            counts.withLock { $0[outcome, default: 0] += 1 }
            metrics.run(action: invocation.action, outcome: outcome, duration: ContinuousClock.now - started)
        } catch let poison as PoisonMessage {
            metrics.poison()
            logger.error("poison message skipped", metadata: position.merging(["reason": "\(poison.reason)"]) { $1 })
            await copyToDeadLetters(message, reason: poison.reason)
        } catch {
            // The terminal report could not be made: leave the offset uncommitted so the
            // run is delivered again after a restart.
            logger.error(
                "run could not be reported; its offset stays uncommitted",
                metadata: position.merging(["error": "\(error)"]) { $1 }
            )
            return
        }
        await markDone(message)
    }

    /// Counts the message as done and commits what that made committable.
    private func markDone(_ message: KafkaConsumerMessage) async {
        guard let next = tracker.withLock({ $0.finished(partition: message.partition, offset: message.offset) }) else {
            return
        }
        await commits.commit(topic: message.topic, partition: message.partition, nextOffset: next)
    }

    /// Dispatches an entity change to its blueprint's handler (or the `*` handler).
    private func handleChange(_ message: KafkaConsumerMessage) async throws(PoisonMessage) {
        let event = try EntityChangeEvent(parsing: message.value ?? [])
        guard let handler = changeHandlers[event.blueprint] ?? changeHandlers["*"] else { return }
        do {
            try await handler(event)
            metrics.change(blueprint: event.blueprint, handled: true)
            logger.info(
                "change handled",
                metadata: ["blueprint": "\(event.blueprint)", "entity": "\(event.entity)", "action": "\(event.action)"]
            )
        } catch {
            metrics.change(blueprint: event.blueprint, handled: false)
            logger.error(
                "change handler failed",
                metadata: ["blueprint": "\(event.blueprint)", "entity": "\(event.entity)", "error": "\(error)"]
            )
        }
    }

    private func copyToDeadLetters(_ message: KafkaConsumerMessage, reason: String) async {
        guard let deadLetters, let topic = settings.deadLetterTopic else { return }
        do {
            try await deadLetters.send(
                KafkaProducerMessage(
                    topic: topic,
                    key: message.key,
                    value: message.value,
                    headers: message.headers + [
                        KafkaHeader(key: "port-consumer-reason", string: reason),
                        KafkaHeader(
                            key: "port-consumer-source",
                            string: "\(message.topic)/\(message.partition)/\(message.offset)"
                        ),
                    ]
                )
            )
        } catch {
            logger.error("dead-letter copy failed", metadata: ["error": "\(error)"])
        }
    }
}

/// Commits offsets without making runs wait: the newest committable offset of each
/// partition is committed by one loop; offsets that become committable while a commit is
/// in flight are covered by the next one (Kafka offsets are cumulative).
actor CommitCoalescer {
    private let consumer: KafkaConsumer
    private let logger: Logger
    private var waiting: [KafkaTopicPartition: Int64] = [:]
    private var committing = false
    /// `flush()` calls waiting for the commit in flight.
    private var flushers: [CheckedContinuation<Void, Never>] = []

    init(consumer: KafkaConsumer, logger: Logger) {
        self.consumer = consumer
        self.logger = logger
    }

    /// Notes that everything before `nextOffset` is done, and commits it soon.
    func commit(topic: String, partition: Int32, nextOffset: Int64) async {
        let key = KafkaTopicPartition(topic: topic, partition: partition)
        waiting[key] = max(waiting[key] ?? 0, nextOffset)
        guard !committing else { return }
        await drainAlone()
    }

    /// Commits what is waiting now (on shutdown), after the commit in flight.
    func flush() async {
        if committing { await withCheckedContinuation { flushers.append($0) } }
        guard !committing else { return }  // another flusher took it over, and drained
        await drainAlone()
    }

    /// Drains as the only committer, then wakes one waiting flusher to go next.
    private func drainAlone() async {
        committing = true
        await drain()
        committing = false
        if !flushers.isEmpty { flushers.removeFirst().resume() }
    }

    private func drain() async {
        while let (key, offset) = waiting.first {
            waiting[key] = nil
            do {
                try await consumer.commit(topic: key.topic, partition: key.partition, nextOffset: offset)
            } catch {
                logger.warning(
                    "commit failed; the next one covers it",
                    metadata: ["partition": "\(key.partition)", "offset": "\(offset)", "error": "\(error)"]
                )
            }
        }
    }
}
