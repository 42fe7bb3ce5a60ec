import ArgumentParser
import Benchmarks
import Foundation

extension PortBench {
    struct ClientLatency: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "client-latency",
            abstract: "Publish messages one at a time; time each from its Kafka timestamp to a Python client's read."
        )

        @Option(help: "confluent, kafka-python or aiokafka.")
        var client = "kafka-python"

        @Option(
            name: .customLong("fetch-max-wait-ms"),
            help: "The client's fetch wait; none keeps its default (500 ms)."
        )
        var fetchMaxWait: Int?

        @Option(help: "front: read through the Kafka front; direct: from the mock brokers behind it.")
        var route = "front"

        @Option(help: "Messages to time (after one that waits for the group).")
        var runs = 100

        @Option(help: "The client script (Tests/KafkaFrontTests/Clients/kafka_client.py).")
        var script = "Tests/KafkaFrontTests/Clients/kafka_client.py"

        func run() async throws {
            let samples = try await FrontBenchmarks.clientLatency(
                client: client,
                fetchMaxWait: fetchMaxWait,
                direct: route == "direct",
                runs: runs,
                script: script,
                logger: quietLogger
            )
            guard !samples.isEmpty else { throw ValidationError("no latencies measured") }
            print(
                "client-latency client=\(client) route=\(route) fetch_max_wait_ms=\(fetchMaxWait.map(String.init) ?? "default") "
                    + "runs=\(samples.count) p50_ms=\(format(samples.percentile(0.5), 1)) p99_ms=\(format(samples.percentile(0.99), 1)) "
                    + "max_ms=\(format(samples.percentile(1), 1))"
            )
        }
    }

    struct FuzzFront: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fuzz-front",
            abstract: "Put random and mutated Kafka requests, answers and SCRAM messages through the front's parsers."
        )

        @Option(help: "Inputs to try.")
        var iterations = 1_000_000

        @Option(help: "The random seed (the same seed tries the same inputs).")
        var seed: UInt64 = 13

        func run() async throws {
            let started = ContinuousClock.now
            let result = FrontBenchmarks.fuzz(iterations: iterations, seed: seed)
            let elapsed = ContinuousClock.now - started
            print(
                "fuzz-front seed=\(seed) inputs=\(result.inputs) parsed=\(result.accepted) "
                    + "refused=\(result.inputs - result.accepted) crashes=0 seconds=\(format(elapsed.seconds, 1))"
            )
        }
    }
}
