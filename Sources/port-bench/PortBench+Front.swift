import ArgumentParser
import Benchmarks
import Foundation

extension PortBench {
    struct ClientLatency: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "client-latency",
            abstract: "Publish messages one at a time; time each from its Kafka timestamp to a client's read.",
            discussion: "Clients: "
                + FrontClient.allCases.map(\.rawValue).joined(separator: ", ")
                + " (the Python and Go clients of Tests/KafkaFrontTests/Clients; port-consumer's Kafka layer in process)."
        )

        @Option(help: "The client (see above).")
        var client = "kafka-python"

        @Flag(help: "Pass --defaults: kafka-go keeps its own MinBytes (= MaxBytes, 1 MB) instead of 1.")
        var defaults = false

        @Option(
            name: .customLong("fetch-max-wait-ms"),
            help: "The client's fetch wait; none keeps its default."
        )
        var fetchMaxWait: Int?

        @Option(
            help: "plaintext or sasl_ssl: our broker through the emulator's front; direct: librdkafka's mock cluster."
        )
        var route = "plaintext"

        @Option(help: "Messages to time (after one that waits for the group).")
        var runs = 100

        @OptionGroup var programs: ClientPrograms

        func validate() throws {
            guard let client = FrontClient(rawValue: client) else {
                throw ValidationError(
                    "--client: one of \(FrontClient.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            guard let route = FrontRoute(rawValue: route == "front" ? "plaintext" : route) else {
                throw ValidationError("--route: plaintext, sasl_ssl or direct")
            }
            guard route != .saslSSL || client.hasSASL else { throw ValidationError("\(client.rawValue) has no SASL") }
            guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        }

        func run() async throws {
            let client = FrontClient(rawValue: client)!
            let route = FrontRoute(rawValue: route == "front" ? "plaintext" : route)!
            let samples = try await FrontBenchmarks.clientLatency(
                client: client,
                route: route,
                defaults: defaults,
                fetchMaxWait: fetchMaxWait,
                runs: runs,
                programs: programs.programs,
                logger: quietLogger
            )
            guard !samples.isEmpty else { throw ValidationError("no latencies measured") }
            let settings = defaults || client != .kafkaGo ? "defaults" : "min_bytes_1"
            print(
                "client-latency client=\(client.rawValue) route=\(route.rawValue) settings=\(settings) "
                    + "fetch_max_wait_ms=\(fetchMaxWait.map(String.init) ?? "default") runs=\(samples.count) "
                    + "p50_ms=\(format(samples.percentile(0.5), 1)) p99_ms=\(format(samples.percentile(0.99), 1)) "
                    + "max_ms=\(format(samples.percentile(1), 1))"
            )
        }
    }

    struct RestartToAssigned: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "restart-to-assigned",
            abstract: "A consumer reads, commits and leaves cleanly; time its successor's start to its assignment.",
            discussion: "direct = librdkafka 2.0.2's mock cluster (the embedded Kafka before ours, the baseline); "
                + "plaintext = our broker through the front. Each run takes a new group."
        )

        @Option(help: "confluent (librdkafka's defaults, on_assign), sarama-min or sarama-max (its assigned event).")
        var client = "confluent"

        @Option(help: "Comma-separated routes; the last one's median is compared with the first's.")
        var routes = "direct,plaintext"

        @Option(help: "Restarts per route.")
        var runs = 3

        @OptionGroup var programs: ClientPrograms

        func validate() throws {
            guard FrontBenchmarks.RestartClient(rawValue: client) != nil else {
                throw ValidationError("--client: confluent, sarama-min or sarama-max")
            }
            let routes = routes.split(separator: ",").map { FrontRoute(rawValue: String($0)) }
            guard !routes.isEmpty, routes.allSatisfy({ $0 != nil && $0 != .saslSSL }) else {
                throw ValidationError("--routes: direct and/or plaintext")
            }
            guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        }

        func run() async throws {
            let client = FrontBenchmarks.RestartClient(rawValue: client)!
            var medians: [(FrontRoute, Double)] = []
            for route in routes.split(separator: ",").compactMap({ FrontRoute(rawValue: String($0)) }) {
                let samples = try await FrontBenchmarks.restartToAssigned(
                    client: client,
                    route: route,
                    runs: runs,
                    programs: programs.programs,
                    logger: quietLogger
                ).map(\.milliseconds)
                for (index, sample) in samples.enumerated() {
                    print(
                        "restart-to-assigned client=\(client.rawValue) route=\(route.rawValue) run=\(index + 1) "
                            + "start_to_assigned_ms=\(format(sample))"
                    )
                }
                let sorted = samples.sorted()
                let median = sorted.percentile(0.5)
                medians.append((route, median))
                print(
                    "restart-to-assigned client=\(client.rawValue) route=\(route.rawValue) runs=\(runs) "
                        + "median_ms=\(format(median)) min_ms=\(format(sorted[0])) max_ms=\(format(sorted[sorted.count - 1]))"
                )
            }
            if let (baseline, before) = medians.first, let (route, after) = medians.last, medians.count > 1 {
                print(
                    "restart-to-assigned client=\(client.rawValue) median_\(route.rawValue)_ms=\(format(after)) "
                        + "median_\(baseline.rawValue)_ms=\(format(before)) "
                        + "\(route.rawValue)_vs_\(baseline.rawValue)=\(format(after / before, 3))"
                )
            }
        }
    }

    /// Where the clients' programs are.
    struct ClientPrograms: ParsableArguments {
        @Option(help: "The Python clients' script.")
        var script = FrontClientPrograms().script

        @Option(name: .customLong("kafka-python3"), help: "The Python of the kafka-python 3 virtual environment.")
        var kafkaPython3 = FrontClientPrograms().kafkaPython3

        @Option(name: .customLong("go-clients"), help: "The folder of sarama_client and kafkago_client (make deps).")
        var goClients = FrontClientPrograms().goClients

        @Option(name: .customLong("restart-script"), help: "The confluent-kafka consumer of restart-to-assigned.")
        var restartScript = FrontClientPrograms().restartScript

        var programs: FrontClientPrograms {
            var programs = FrontClientPrograms()
            programs.script = script
            programs.kafkaPython3 = kafkaPython3
            programs.goClients = goClients
            programs.restartScript = restartScript
            return programs
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
