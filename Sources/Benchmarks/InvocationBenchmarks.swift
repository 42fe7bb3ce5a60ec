import Emulator
import Foundation
package import Logging
import PortContract
import PortKafka
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Measurements of the publisher: how soon a triggered run's message can be read, and how
/// many invocations per second it renders and publishes.
package enum InvocationBenchmarks {
    /// Latencies from `POST /_emulator/runs` to the message being read by a consumer.
    package struct Latency: Sendable {
        /// One per run, sorted.
        package let samples: [Duration]
        /// The consumer's `fetch.wait.max.ms`.
        package let fetchWait: Duration

        /// The sample at `fraction` (0.5 for the median).
        package func percentile(_ fraction: Double) -> Duration {
            samples.percentile(fraction)
        }
    }

    /// A sustained publishing rate.
    package struct Rate: Sendable {
        /// Runs published.
        package let runs: Int
        /// From the first run created to the last delivery report.
        package let publishTime: Duration
        /// From the first run created until a consumer had read every message.
        package let readTime: Duration
        /// Invocations published per second.
        package var perSecond: Double { Double(runs) / publishTime.seconds }
    }

    /// A v2 action with a payload template: scalars, an object, mixed text, a null key and
    /// a spread, as Port's docs use them.
    static let templatedAction = #"""
        {"identifier":"bench_templated","trigger":{"type":"self-service","operation":"CREATE",
         "userInputs":{"properties":{"name":{"type":"string"},"size":{"type":"number"}}}},
         "invocationMethod":{"type":"KAFKA","payload":{
           "runId":"{{ .run.id }}","name":"{{ .inputs.name }}","inputs":"{{ .inputs }}",
           "summary":"Create {{ .inputs.name }} of size {{ .inputs.size }} for {{ .trigger.by.user.email }}",
           "{{ if .inputs.missing then \"missing\" else null end }}":"dropped",
           "{{ spreadValue() }}":"{{ {operation: .trigger.operation, org: .trigger.by.orgId} }}"}}}
        """#

    /// Starts an emulator and a consumer of its runs topic, runs `body`, stops both.
    static func withEmulator<Result: Sendable>(
        fetchWait: Duration,
        direct: Bool = false,
        logger: Logger,
        _ body: @escaping @Sendable (PortEmulator, ArrivalTracker) async throws -> Result
    ) async throws -> Result {
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        configuration.orgID = "org_bench"
        return try await PortEmulator.withRunning(configuration: configuration, logger: logger) { emulator in
            // `direct` reads the mock brokers behind the front, as clients did before it existed.
            let bootstrap = direct ? emulator.internalKafkaBootstrapServers! : emulator.info.kafkaBootstrapServers
            var consumerConfiguration = KafkaConsumerConfiguration(
                bootstrapServers: [bootstrap],
                groupID: "org_bench.reader"
            )
            consumerConfiguration.additionalProperties = ["fetch.wait.max.ms": String(Int(fetchWait.milliseconds))]
            let consumer = try KafkaConsumer.make(configuration: consumerConfiguration, logger: logger)
            try consumer.assign(
                (0..<emulator.info.partitions).map {
                    KafkaTopicPartition(topic: emulator.info.runsTopic, partition: Int32($0))
                }
            )
            let tracker = ArrivalTracker()
            return try await withCleanup {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        do {
                            for try await message in consumer.messages {
                                if let key = message.keyString { tracker.arrived(key, at: ContinuousClock.now) }
                            }
                        } catch {
                            // The runs the body waits for then never arrive: it says which.
                            logger.error("the benchmark's reader stopped", metadata: ["error": "\(error)"])
                        }
                    }
                    defer { group.cancelAll() }
                    return try await body(emulator, tracker)
                }
            } cleanup: {
                await consumer.close()
            }
        }
    }

    /// `runs` runs created one after another through `POST /_emulator/runs`, each timed
    /// until a consumer (`fetch.wait.max.ms` = `fetchWait`) has read its message: through
    /// the Kafka front, or `direct` from the mock brokers behind it.
    package static func latency(
        runs: Int,
        fetchWait: Duration,
        direct: Bool = false,
        logger: Logger
    ) async throws -> Latency {
        try await withEmulator(fetchWait: fetchWait, direct: direct, logger: logger) { emulator, tracker in
            let url = URL(string: emulator.info.apiBaseURL + "/_emulator/runs")!
            var samples: [Duration] = []
            for index in 0..<(runs + 20) {
                var request = URLRequest(url: url)
                request.httpMethod = "POST"
                request.httpBody = Data(#"{"action":"create_vm","properties":{"name":"vm-\#(index)"}}"#.utf8)
                let started = ContinuousClock.now
                let (data, _) = try await URLSession.shared.data(for: request)
                guard let runID = try JSONValue.parse(Array(data))["run"]?["id"]?.stringValue else {
                    throw BenchmarkError(message: "POST /_emulator/runs answered no run")
                }
                let arrived = try await tracker.arrival(of: runID, within: .seconds(10))
                if index >= 20 { samples.append(arrived - started) }  // the first 20 warm up
            }
            return Latency(samples: samples.sorted(), fetchWait: fetchWait)
        }
    }

    /// `runs` runs of a templated action created at once (at most `window` publishing at a
    /// time): renders with libjq and publishes, timed to the last delivery report.
    package static func rate(runs count: Int, window: Int, logger: Logger) async throws -> Rate {
        try await withEmulator(fetchWait: .milliseconds(10), logger: logger) { emulator, tracker in
            try emulator.catalog.add(
                ActionDefinition(definition: try JSONValue.parse(templatedAction)),
                by: "bench"
            )
            let started = ContinuousClock.now
            let published = try await withThrowingTaskGroup(of: Bool.self) { group in
                var delivered = 0
                for index in 0..<count {
                    if index >= window, try await group.next() == true { delivered += 1 }
                    group.addTask {
                        let run = emulator.runs.create(
                            NewRun(
                                action: RunActionInfo(identifier: "bench_templated"),
                                properties: ["name": .string("db-\(index)"), "size": .int(Int64(index % 100))],
                                createdBy: "bench@example.com"
                            )
                        )
                        return await emulator.publisher.publish(runID: run.id) != nil
                    }
                }
                for try await ok in group where ok { delivered += 1 }
                return delivered
            }
            let publishTime = ContinuousClock.now - started
            guard published == count else {
                throw BenchmarkError(message: "only \(published) of \(count) invocations were published")
            }
            try await tracker.waitForCount(count, within: .seconds(60))
            return Rate(runs: count, publishTime: publishTime, readTime: ContinuousClock.now - started)
        }
    }
}

/// When each key was first read, and waiting for a key or a count.
final class ArrivalTracker: Sendable {
    private struct State {
        var arrivals: [String: ContinuousClock.Instant] = [:]
    }

    private let state = Mutex(State())

    func arrived(_ key: String, at instant: ContinuousClock.Instant) {
        state.withLock { state in
            if state.arrivals[key] == nil { state.arrivals[key] = instant }
        }
    }

    /// When `key` was read, polling every 100 µs until `limit`.
    func arrival(of key: String, within limit: Duration) async throws -> ContinuousClock.Instant {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let instant = state.withLock({ $0.arrivals[key] }) { return instant }
            try await Task.sleep(for: .microseconds(100))
        }
        throw BenchmarkError(message: "no message with key \(key) within \(limit)")
    }

    /// Waits until `count` distinct keys were read.
    func waitForCount(_ count: Int, within limit: Duration) async throws {
        let deadline = ContinuousClock.now + limit
        while state.withLock({ $0.arrivals.count }) < count {
            guard ContinuousClock.now < deadline else {
                throw BenchmarkError(message: "a consumer read \(state.withLock { $0.arrivals.count }) of \(count)")
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}
