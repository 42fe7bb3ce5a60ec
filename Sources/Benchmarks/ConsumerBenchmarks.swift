import Consumer
import Emulator
import Foundation
package import Logging
import PortContract
import PortKafka

/// port-consumer against a minimal sequential consumer (one run at a time, a new token
/// for every call, the way port-agent works), both with a no-op handler that logs twice.
package enum ConsumerBenchmarks {
    /// One consumer's figures.
    package struct Figures: Sendable {
        /// Runs in the burst.
        package let runs: Int
        /// Runs completed per second in the burst (first trigger to last terminal status).
        package let runsPerSecond: Double
        /// Trigger-to-terminal-status latencies of runs triggered one after another, sorted.
        package let latencies: [Duration]

        /// The latency at `fraction` (0.5 for the median).
        package func latency(_ fraction: Double) -> Duration {
            latencies.percentile(fraction)
        }
    }

    /// Measures one consumer: `concurrency` runs at a time; `tokenPerCall` fetches a token
    /// before every API call (port-agent's way).
    package static func measure(
        burst: Int,
        paced: Int,
        concurrency: Int,
        tokenPerCall: Bool,
        apiLatency: Duration = .zero,
        logger: Logger
    ) async throws -> Figures {
        var configuration = EmulatorConfiguration()
        configuration.apiLatency = apiLatency
        configuration.port = 0
        configuration.orgID = "org_bench"
        configuration.tokenTTL = .seconds(3600)
        return try await PortEmulator.withRunning(configuration: configuration, logger: logger) { emulator in
            try emulator.catalog.add(
                ActionDefinition(
                    definition: try JSONValue.parse(
                        #"{"identifier":"noop","trigger":"CREATE","invocationMethod":{"type":"KAFKA"}}"#
                    )
                ),
                by: "bench"
            )
            let client = PortClient(
                apiURL: emulator.info.apiURL,
                clientID: emulator.info.clientID,
                clientSecret: emulator.info.clientSecret,
                // Longer than the token lives: every call asks for a new token.
                refreshMargin: tokenPerCall ? .seconds(7200) : .seconds(60),
                maxConnections: concurrency,
                logger: logger
            )
            let noop: RunHandler = { context in
                try await context.log("working")
                try await context.log("done")
            }
            var kafka = KafkaConsumerConfiguration(
                bootstrapServers: [emulator.info.kafkaBootstrapServers],
                groupID: "org_bench.consumer"
            )
            kafka.additionalProperties = ["fetch.wait.max.ms": "5"]
            var settings = PortConsumer.Settings(runsTopic: emulator.info.runsTopic)
            settings.concurrency = concurrency
            let consumer = PortConsumer(
                consumer: try KafkaConsumer.make(configuration: kafka, logger: logger),
                runtime: RunRuntime(client: client, handlers: ["noop": noop], logger: logger),
                settings: settings,
                logger: logger
            )
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await consumer.run() }
                defer { group.cancelAll() }
                let figures = try await Self.measure(emulator, burst: burst, paced: paced)
                group.cancelAll()
                try? await group.waitForAll()
                await client.shutdown()
                return figures
            }
        }
    }

    /// Runs `paced` runs one after another (their latencies), then `burst` at once (the rate).
    private static func measure(_ emulator: PortEmulator, burst: Int, paced: Int) async throws -> Figures {
        func trigger() async -> String {
            let run = emulator.runs.create(NewRun(action: RunActionInfo(identifier: "noop")))
            await emulator.publisher.publish(runID: run.id)
            return run.id
        }
        func finish(_ runID: String) async throws -> ActionRun {
            let result = try await emulator.runs.wait(for: runID, timeout: .seconds(120)) { $0.isLocked }
            guard result.reached else { throw BenchmarkError(message: "run \(runID) did not finish") }
            return result.run
        }
        // Warm up: the group joins and the first runs go through.
        for _ in 0..<5 { _ = try await finish(await trigger()) }

        var latencies: [Duration] = []
        for _ in 0..<paced {
            let started = ContinuousClock.now
            _ = try await finish(await trigger())
            latencies.append(ContinuousClock.now - started)
        }

        let started = ContinuousClock.now
        // All at once, as a burst of clicks would: publishing does not wait for each delivery.
        let ids = await withTaskGroup(of: String.self) { group in
            for _ in 0..<burst { group.addTask { await trigger() } }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        for id in ids { _ = try await finish(id) }
        let makespan = ContinuousClock.now - started

        return Figures(runs: burst, runsPerSecond: Double(burst) / makespan.seconds, latencies: latencies.sorted())
    }
}
