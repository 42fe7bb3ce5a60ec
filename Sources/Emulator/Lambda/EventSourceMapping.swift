package import Logging
package import PortKafka
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Lambda's Kafka event source mapping: a consumer in the group the user named, reading the
/// organization's topics through the Kafka front with the SCRAM credentials (so Port's ACLs
/// apply), batching records, invoking the function through ``LambdaRuntime``, and
/// committing a batch's offsets only after the function succeeded with it.
///
/// A failed batch (an error, a timeout, an environment that died) is invoked again, whole,
/// after a short pause (100 ms doubling to 2 s), until it succeeds or
/// `maximumRetryAttempts` is spent (then it is discarded and committed, as Lambda drops it
/// without an on-failure destination). With `bisectBatchOnFunctionError` a failed batch is
/// split in two first. Records older than `maximumRecordAge` are discarded before an
/// invocation. `restart()` stops the consumer at once, without committing what is in
/// flight, and starts a new one in the same group: the batch is read again.
package final class EventSourceMapping: Sendable {
    /// Where and how the mapping connects.
    package struct Connection: Sendable {
        /// The SASL_SSL listeners.
        package var bootstrapServers: String
        /// The SCRAM-SHA-512 user.
        package var username: String
        /// Its password.
        package var password: String
        /// The CA file that signed the front's certificate.
        package var caFile: String
        /// The topics to read.
        package var topics: [String]
        /// How many partitions each has.
        package var partitions: Int
    }

    private let settings: LambdaSettings
    private let group: String
    private let connection: Connection
    private let runtime: LambdaRuntime
    private let log: LambdaInvocationLog
    private let logger: Logger
    private let restarts: AsyncStream<Void>
    private let restartSink: AsyncStream<Void>.Continuation
    private let generations = Mutex(0)
    private let assigned = Mutex<[KafkaTopicPartition]>([])

    /// A mapping for `settings` in `group`.
    package init(
        settings: LambdaSettings,
        group: String,
        connection: Connection,
        runtime: LambdaRuntime,
        log: LambdaInvocationLog,
        logger: Logger
    ) {
        self.settings = settings
        self.group = group
        self.connection = connection
        self.runtime = runtime
        self.log = log
        self.logger = logger
        (restarts, restartSink) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Stops the consumer now, without committing the batch in flight, and starts another.
    package func restart() { restartSink.yield() }

    /// The partitions the mapping's consumer holds now (empty until its group's join ends:
    /// the broker waits 3 s for more members, as Kafka's group.initial.rebalance.delay.ms).
    package var assignment: [KafkaTopicPartition] { assigned.withLock { $0 } }

    /// How many consumers the mapping has started.
    package var generation: Int { generations.withLock { $0 } }

    /// Reads and invokes until cancelled; a restart ends one consumer and starts the next,
    /// and a consumer that could not start is tried again after 10 s.
    package func run() async {
        // One iterator for the mapping's life: a cancelled iteration would end the stream.
        var restarts = self.restarts.makeAsyncIterator()
        while !Task.isCancelled {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    while !Task.isCancelled, !(await self.consume()) {
                        try? await Task.sleep(for: .seconds(10))
                    }
                }
                _ = await restarts.next()
                group.cancelAll()
            }
        }
    }

    /// One consumer's life: join, read, invoke; false when it could not start.
    private func consume() async -> Bool {
        generations.withLock { $0 += 1 }
        var configuration = KafkaConsumerConfiguration(
            bootstrapServers: connection.bootstrapServers.split(separator: ",").map(String.init),
            groupID: group
        )
        configuration.clientID = "lambda-event-source-mapping"
        configuration.autoOffsetReset = .earliest
        configuration.securityProtocol = .saslTLS(
            KafkaSASLConfiguration(
                mechanism: .scramSHA512,
                username: connection.username,
                password: connection.password
            ),
            KafkaTLSConfiguration(caLocation: connection.caFile)
        )
        // A batch may be retried for a long time; the group must not evict the mapping meanwhile.
        configuration.maxPollInterval = .seconds(3600)
        let consumer: KafkaConsumer
        do {
            consumer = try KafkaConsumer.make(configuration: configuration, logger: logger) { [log, group] error in
                // Port's ACLs refuse the group in FindCoordinator and JoinGroup; librdkafka
                // reports it here and keeps retrying, as Lambda's poller would.
                if error.librdkafkaCode == 30 {
                    log.problem =
                        "PROBLEM: the consumer group '\(group)' is refused by Port's ACLs (GROUP_AUTHORIZATION_FAILED): "
                        + "groups must start with the organization id and a dot"
                }
            }
            try consumer.subscribe(topics: connection.topics)
        } catch {
            log.problem = "PROBLEM: cannot read \(connection.topics.joined(separator: ", ")): \(error)"
            logger.error("Lambda event source mapping: \(error)")
            return false
        }
        let buffer = RecordBuffer()
        assigned.withLock { $0 = [] }
        defer { assigned.withLock { $0 = [] } }
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                // Watches the join: ready (for verify and benchmarks) once partitions are held.
                while !Task.isCancelled {
                    let partitions = (try? consumer.assignment()) ?? []
                    if !partitions.isEmpty {
                        self.assigned.withLock { $0 = partitions }
                        return
                    }
                    try? await Task.sleep(for: .milliseconds(20))
                }
            }
            tasks.addTask {
                do {
                    for try await message in consumer.messages { await buffer.append(message) }
                } catch {
                    self.logger.error("Lambda event source mapping: reading failed: \(error)")
                }
                buffer.finish()
            }
            tasks.addTask {
                var arrivals = buffer.arrivals.makeAsyncIterator()
                while !Task.isCancelled {
                    switch buffer.next(upTo: self.settings.batchSize, window: self.settings.batchingWindow) {
                    case .batch(let batch):
                        guard await self.deliver(batch, consumer: consumer) else { return }
                    case .waitUntil(let instant):
                        // Short naps while a window is open: a full batch goes at once.
                        try? await Task.sleep(until: min(instant, .now + .milliseconds(5)))
                    case .empty:
                        guard await arrivals.next() != nil else { return }
                    case .finished:
                        return
                    }
                }
            }
            // The watcher ends first (or never); the reader and the invoker end together.
            _ = await tasks.next()
            if assigned.withLock({ !$0.isEmpty }) { _ = await tasks.next() }
            tasks.cancelAll()
        }
        await consumer.close()
        return true
    }

    /// Invokes the function with `batch` until it is done with (committed or discarded);
    /// false when the mapping is stopping.
    private func deliver(_ batch: [KafkaConsumerMessage], consumer: KafkaConsumer) async -> Bool {
        var queue: [(records: [KafkaConsumerMessage], retries: Int)] = [(batch, 0)]
        while let (records, retries) = queue.first {
            guard !Task.isCancelled else { return false }
            let fresh = withoutExpired(records)
            if fresh.isEmpty {
                guard await commit(records, consumer: consumer) else { return false }
                queue.removeFirst()
                continue
            }
            let event = KafkaLambdaEvent.encode(
                fresh,
                trigger: settings.trigger,
                bootstrapServers: connection.bootstrapServers,
                clusterARN: settings.clusterARN
            )
            let started = ContinuousClock.now
            let startedAt = Int64(Date().timeIntervalSince1970 * 1000)
            let outcome = await runtime.invoke(event)
            var entry = LambdaInvocationLog.Entry(
                number: 0,
                attempt: retries + 1,
                records: fresh.map { "\($0.topic)-\($0.partition)@\($0.offset)" },
                runIDs: LambdaInvocationLog.runIDs(in: fresh.map(\.value)),
                outcome: outcome.summary,
                succeeded: outcome.succeeded,
                startedAt: startedAt,
                duration: ContinuousClock.now - started,
                then: ""
            )
            if outcome == .abandoned || Task.isCancelled {
                entry.then = "abandoned: not committed"
                log.record(entry)
                return false
            }
            if outcome.succeeded {
                entry.then = "committed"
                log.record(entry)
                guard await commit(records, consumer: consumer) else { return false }
                queue.removeFirst()
                continue
            }
            if settings.maximumRetryAttempts >= 0, retries >= settings.maximumRetryAttempts {
                entry.then = "discarded after \(retries) retries"
                log.record(entry)
                guard await commit(records, consumer: consumer) else { return false }
                queue.removeFirst()
                continue
            }
            if settings.bisectBatchOnFunctionError, records.count > 1 {
                entry.then = "split in two"
                let half = records.count / 2
                queue.replaceSubrange(
                    0..<1,
                    with: [(Array(records[..<half]), retries + 1), (Array(records[half...]), retries + 1)]
                )
            } else {
                entry.then = "retrying"
                queue[0].retries += 1
            }
            log.record(entry)
            let pause = min(Duration.milliseconds(100) * (1 << min(retries, 5)), .seconds(2))
            try? await Task.sleep(for: pause)
        }
        return true
    }

    /// `records` without those older than the maximum record age.
    private func withoutExpired(_ records: [KafkaConsumerMessage]) -> [KafkaConsumerMessage] {
        guard let age = settings.maximumRecordAge else { return records }
        let oldest = Int64((Date().timeIntervalSince1970 - Double(age.components.seconds)) * 1000)
        return records.filter { ($0.timestampMilliseconds ?? Int64.max) >= oldest }
    }

    /// Commits the offset after each partition's last record; false when it cannot.
    private func commit(_ records: [KafkaConsumerMessage], consumer: KafkaConsumer) async -> Bool {
        var next: [KafkaTopicPartition: Int64] = [:]
        for record in records {
            let key = KafkaTopicPartition(topic: record.topic, partition: record.partition)
            next[key] = max(next[key] ?? 0, record.offset + 1)
        }
        do {
            try await consumer.commit(next)
            return true
        } catch {
            logger.error("Lambda event source mapping: commit failed: \(error)")
            return false
        }
    }
}

/// Records read and not yet batched, between the reading task and the invoking one. The
/// reader waits while 10,000 are held; the invoker sleeps on `arrivals` while none are.
private final class RecordBuffer: Sendable {
    enum Next {
        case batch([KafkaConsumerMessage])
        case waitUntil(ContinuousClock.Instant)
        case empty
        case finished
    }

    private struct State {
        var records: [KafkaConsumerMessage] = []
        var firstArrival: ContinuousClock.Instant?
        var finished = false
    }

    private let state = Mutex(State())
    /// One element per arrival (only the newest kept): wakes the invoker.
    let arrivals: AsyncStream<Void>
    private let sink: AsyncStream<Void>.Continuation

    init() {
        (arrivals, sink) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    func append(_ record: KafkaConsumerMessage) async {
        while state.withLock({ $0.records.count >= 10_000 }), !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(5))
        }
        state.withLock { state in
            if state.records.isEmpty { state.firstArrival = .now }
            state.records.append(record)
        }
        sink.yield()
    }

    func finish() {
        state.withLock { $0.finished = true }
        sink.finish()
    }

    /// A batch of up to `limit` once `limit` have arrived or `window` has passed since the first.
    func next(upTo limit: Int, window: Duration) -> Next {
        state.withLock { state in
            guard let first = state.firstArrival else { return state.finished ? .finished : .empty }
            guard state.records.count >= limit || ContinuousClock.now >= first + window else {
                return .waitUntil(first + window)
            }
            let batch = Array(state.records.prefix(limit))
            state.records.removeFirst(batch.count)
            state.firstArrival = state.records.isEmpty ? nil : .now
            return .batch(batch)
        }
    }
}
