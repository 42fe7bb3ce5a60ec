import Foundation
package import Logging
import PortKafka
import Synchronization

/// Measurements of the Kafka layer through the embedded cluster.
package enum KafkaBenchmarks {
    /// How long each start-up step took.
    package struct Startup: Sendable {
        /// Starting the mock cluster.
        package var clusterStart: Duration
        /// Creating the topic.
        package var topicCreation: Duration
        /// Creating the producer.
        package var producerCreation: Duration
        /// Sending the first message until its delivery report.
        package var firstDelivery: Duration
        /// Wall-clock time of the first delivery report, in nanoseconds since the epoch.
        package var firstDeliveryWallClockNanoseconds: Double
        /// All of the above.
        package var total: Duration { clusterStart + topicCreation + producerCreation + firstDelivery }
    }

    /// Starts a cluster and measures until it has accepted and acknowledged one produce.
    package static func startup(logger: Logger) async throws -> Startup {
        let clock = ContinuousClock()
        var start = clock.now
        let cluster = try EmbeddedKafkaCluster.start(logger: logger)
        let clusterStart = clock.now - start
        let producerCreation: Duration
        let topicCreation: Duration
        let firstDelivery: Duration
        let firstDeliveryWallClock: Double
        do {
            start = clock.now
            try cluster.createTopic("bench.startup", partitions: 1)
            topicCreation = clock.now - start
            start = clock.now
            var configuration = KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServerList)
            configuration.linger = .zero
            let producer = try KafkaProducer.make(configuration: configuration, logger: logger)
            producerCreation = clock.now - start
            start = clock.now
            do {
                try await producer.send(KafkaProducerMessage(topic: "bench.startup", value: "first"))
            } catch {
                await producer.close()
                throw error
            }
            firstDelivery = clock.now - start
            firstDeliveryWallClock = Date().timeIntervalSince1970 * 1e9
            await producer.close()
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
        return Startup(
            clusterStart: clusterStart,
            topicCreation: topicCreation,
            producerCreation: producerCreation,
            firstDelivery: firstDelivery,
            firstDeliveryWallClockNanoseconds: firstDeliveryWallClock
        )
    }

    /// Produce and consume rates for one run.
    package struct Throughput: Sendable {
        /// Messages produced and consumed.
        package var messages: Int
        /// Bytes per value.
        package var valueSize: Int
        /// From the first send until every delivery report was in.
        package var produceTime: Duration
        /// From the consumer's subscription until its first message (the group join).
        package var groupJoinTime: Duration
        /// From the first message read until the last.
        package var consumeTime: Duration
        /// The longest wait between two messages read (a stall shows here).
        package var longestGap: Duration

        /// Delivered messages per second.
        package var producedPerSecond: Double { Double(messages) / produceTime.seconds }
        /// Consumed messages per second, after the group join.
        package var consumedPerSecond: Double { Double(messages) / consumeTime.seconds }
        /// Produced megabytes (MiB) of values per second.
        package var producedMiBPerSecond: Double { producedPerSecond * Double(valueSize) / 1_048_576 }
        /// Consumed megabytes (MiB) of values per second.
        package var consumedMiBPerSecond: Double { consumedPerSecond * Double(valueSize) / 1_048_576 }
    }

    /// Produces `messages` values of `valueSize` bytes with up to `inFlight` sends pending,
    /// then reads them all back with a new consumer group, straight to the mock brokers or
    /// through the Kafka front (`route`).
    package static func throughput(
        messages: Int,
        valueSize: Int,
        partitions: Int,
        inFlight: Int,
        route: FrontRoute = .direct,
        logger: Logger
    ) async throws -> Throughput {
        try await route.withConnection(topics: [("bench.throughput", partitions)], logger: logger) { front in
            try await throughput(
                messages: messages,
                valueSize: valueSize,
                inFlight: inFlight,
                front: front,
                logger: logger
            )
        }
    }

    private static func throughput(
        messages: Int,
        valueSize: Int,
        inFlight: Int,
        front: FrontRoute.Connection,
        logger: Logger
    ) async throws -> Throughput {
        var configuration = KafkaProducerConfiguration(bootstrapServers: front.bootstrapServers)
        configuration.securityProtocol = front.security
        configuration.linger = .milliseconds(5)
        configuration.additionalProperties = ["queue.buffering.max.messages": String(max(100_000, inFlight * 2))]
        let producer = try KafkaProducer.make(configuration: configuration, logger: logger)
        let value = [UInt8](repeating: 0x78, count: valueSize)
        // Start-up is measured by `startup`. Warm the producer up on the same topic: with no
        // metadata for it yet, librdkafka 2.0 holds a flood of queued messages for about 1 s.
        try await producer.send(KafkaProducerMessage(topic: "bench.throughput", value: value))

        let clock = ContinuousClock()
        let produceStart = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<messages {
                if index >= inFlight { try await group.next() }
                group.addTask {
                    try await producer.send(
                        KafkaProducerMessage(topic: "bench.throughput", key: Array("k\(index)".utf8), value: value)
                    )
                }
            }
            try await group.waitForAll()
        }
        let produceTime = clock.now - produceStart
        await producer.close()

        var consumerConfiguration = KafkaConsumerConfiguration(
            bootstrapServers: front.bootstrapServers,
            groupID: "bench.consumer"
        )
        consumerConfiguration.securityProtocol = front.security
        consumerConfiguration.heartbeatInterval = .milliseconds(200)
        let consumer = try KafkaConsumer.make(configuration: consumerConfiguration, logger: logger)
        try consumer.subscribe(topics: ["bench.throughput"])
        let subscribed = clock.now
        let progress = ReadProgress()
        try await withCleanup {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await _ in consumer.messages {
                        if progress.recordMessage(at: clock.now) == messages + 1 { break }  // + the warm-up
                    }
                }
                // The mock cluster keeps about 5 MiB per partition and drops older messages; a
                // read that stops making progress fails with that explanation instead of hanging.
                var lastCount = -1
                while !progress.isDone(messages + 1) {
                    try await Task.sleep(for: .seconds(10))
                    let count = progress.count
                    if count == lastCount {
                        throw BenchmarkError(
                            message: "read \(count) of \(messages) messages, then nothing for 10 s; the embedded "
                                + "cluster keeps about 5 MiB per partition, so use fewer messages or more partitions"
                        )
                    }
                    lastCount = count
                }
                try await group.waitForAll()
            }
        } cleanup: {
            await consumer.close()
        }
        guard let firstMessage = progress.first, let end = progress.last else {
            throw BenchmarkError(message: "no messages were read")
        }
        return Throughput(
            messages: messages,
            valueSize: valueSize,
            produceTime: produceTime,
            groupJoinTime: firstMessage - subscribed,
            consumeTime: end - firstMessage,  // messages read after the first: `messages` of them
            longestGap: progress.longestGap
        )
    }
}

/// Counts messages read by one task and watched by another.
final class ReadProgress: Sendable {
    private struct State {
        var count = 0
        var first: ContinuousClock.Instant?
        var last: ContinuousClock.Instant?
        var longestGap: Duration = .zero
    }

    private let state = Mutex(State())

    /// Records one message and returns how many have been read.
    func recordMessage(at instant: ContinuousClock.Instant) -> Int {
        state.withLock { state in
            state.count += 1
            if state.first == nil { state.first = instant }
            if let last = state.last { state.longestGap = max(state.longestGap, instant - last) }
            state.last = instant
            return state.count
        }
    }

    var count: Int { state.withLock { $0.count } }
    var first: ContinuousClock.Instant? { state.withLock { $0.first } }
    var last: ContinuousClock.Instant? { state.withLock { $0.last } }
    var longestGap: Duration { state.withLock { $0.longestGap } }
    func isDone(_ target: Int) -> Bool { count >= target }
}

/// A benchmark that could not complete.
package struct BenchmarkError: Error, CustomStringConvertible {
    /// What went wrong.
    package let message: String
    /// The message.
    package var description: String { message }
}

extension Array {
    /// The element at `fraction` of a sorted, non-empty array (0.5 for the median, 1 for
    /// the largest): the nearest-rank percentile every benchmark reports.
    package func percentile(_ fraction: Double) -> Element {
        self[Swift.min(count - 1, Swift.max(0, Int((Double(count) * fraction).rounded(.up)) - 1))]
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    package var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// The duration in milliseconds, as a floating-point number.
    package var milliseconds: Double { seconds * 1000 }
}
