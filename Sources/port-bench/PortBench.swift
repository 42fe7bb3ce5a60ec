import ArgumentParser
import Benchmarks
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

@main
struct PortBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "port-bench",
        abstract: "Measures the foundation: embedded Kafka start-up and throughput, and the HTTP server.",
        discussion:
            "`make bench` runs all of these and compares the HTTP server with nginx and a bare C libmicrohttpd server.",
        subcommands: [
            KafkaStartup.self, KafkaThroughput.self, HTTPServe.self, EmulatorStartup.self, InvocationLatency.self,
            AutomationFanOut.self, InvocationRate.self, ConsumerComparison.self, ClientLatency.self, FuzzFront.self,
            CatalogSearch.self, RestartToAssigned.self, StateRestart.self,
        ]
    )
}

/// librdkafka's logs would only disturb the timings.
let quietLogger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }

func format(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }

extension PortBench {
    struct ConsumerComparison: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "consumer",
            abstract: "port-consumer against a sequential, token-per-call consumer: runs/s and trigger-to-done latency."
        )

        @Option(help: "Runs triggered at once for the throughput figure.")
        var burst = 2000

        @Option(help: "Runs triggered one after another for the latency figure.")
        var paced = 200

        @Option(help: "port-consumer's concurrent runs.")
        var concurrency = 64

        @Option(name: .customLong("api-latency-ms"), help: "Delay added to every API answer, as a network would.")
        var apiLatencyMilliseconds = 0

        func run() async throws {
            for (name, concurrency, tokenPerCall, burst) in [
                ("port-consumer", concurrency, false, burst), ("sequential", 1, true, max(50, burst / 20)),
            ] {
                let figures = try await ConsumerBenchmarks.measure(
                    burst: burst,
                    paced: paced,
                    concurrency: concurrency,
                    tokenPerCall: tokenPerCall,
                    apiLatency: .milliseconds(apiLatencyMilliseconds),
                    logger: quietLogger
                )
                print(
                    "consumer \(name) api_latency_ms=\(apiLatencyMilliseconds) concurrency=\(concurrency) burst=\(burst) "
                        + "runs_per_s=\(format(figures.runsPerSecond)) paced=\(paced) "
                        + "p50_ms=\(format(figures.latency(0.5).milliseconds, 2)) "
                        + "p99_ms=\(format(figures.latency(0.99).milliseconds, 2))"
                )
            }
        }
    }

    struct InvocationLatency: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "invocation-latency",
            abstract: "Time POST /_emulator/runs until a consumer has read the run's message, run after run."
        )

        @Option(help: "Runs to time (after 20 to warm up).")
        var runs = 1000

        @Option(
            name: .customLong("fetch-wait-ms"),
            help: "The consumer's fetch.wait.max.ms (librdkafka's default: 500)."
        )
        var fetchWaitMilliseconds = 10

        @Option(help: "front: read through the Kafka front; direct: from the mock brokers behind it.")
        var route = "front"

        func run() async throws {
            let result = try await InvocationBenchmarks.latency(
                runs: runs,
                fetchWait: .milliseconds(fetchWaitMilliseconds),
                direct: route == "direct",
                logger: quietLogger
            )
            print(
                "invocation-latency route=\(route) runs=\(runs) fetch_wait_ms=\(fetchWaitMilliseconds) "
                    + "p50_ms=\(format(result.percentile(0.5).milliseconds, 2)) "
                    + "p90_ms=\(format(result.percentile(0.9).milliseconds, 2)) "
                    + "p99_ms=\(format(result.percentile(0.99).milliseconds, 2)) "
                    + "max_ms=\(format(result.percentile(1).milliseconds, 2))"
            )
        }
    }

    struct AutomationFanOut: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "automation-fanout",
            abstract: "Entity writes per second with automations defined, and write-to-message latency when they fire.",
            discussion: "--setup none (the baseline), defined (N automations whose conditions never hold) or firing "
                + "(each write fires one of the N: a run and its message on Kafka)."
        )

        @Option(help: "none, defined or firing.")
        var setup = "firing"

        @Option(help: "Automations defined.")
        var automations = 10

        @Option(help: "Entity writes for the rate.")
        var writes = 5000

        @Option(help: "Writes in flight at most.")
        var concurrency = 16

        @Option(help: "Writes timed one after another to their automation's message (firing only).")
        var samples = 500

        func validate() throws {
            guard AutomationBenchmarks.Setup(rawValue: setup) != nil else {
                throw ValidationError("--setup must be none, defined or firing (got \(setup))")
            }
        }

        func run() async throws {
            let figures = try await AutomationBenchmarks.fanOut(
                AutomationBenchmarks.Setup(rawValue: setup)!,
                automations: automations,
                writes: writes,
                concurrency: concurrency,
                samples: samples,
                logger: quietLogger
            )
            var line =
                "automation-fanout setup=\(setup) automations=\(setup == "none" ? 0 : automations) "
                + "writes=\(writes) concurrency=\(concurrency) writes_per_s=\(Int(figures.writesPerSecond))"
            if !figures.latencies.isEmpty {
                line +=
                    " samples=\(samples) write_to_message_p50_ms=\(format(figures.latencies.percentile(0.5).milliseconds, 2))"
                    + " p99_ms=\(format(figures.latencies.percentile(0.99).milliseconds, 2))"
            }
            print(line)
        }
    }

    struct InvocationRate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "invocation-rate",
            abstract: "Create runs of a templated action at once; time rendering (libjq) and publishing them all."
        )

        @Option(help: "Runs to publish.")
        var runs = 20000

        @Option(help: "Publishes in flight at most.")
        var window = 512

        func run() async throws {
            let result = try await InvocationBenchmarks.rate(runs: runs, window: window, logger: quietLogger)
            print(
                "invocation-rate runs=\(runs) window=\(window) published_per_s=\(Int(result.perSecond)) "
                    + "publish_ms=\(format(result.publishTime.milliseconds)) "
                    + "all_read_ms=\(format(result.readTime.milliseconds))"
            )
        }
    }

    struct EmulatorStartup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "emulator-startup",
            abstract: "Time `port-emulator serve` from spawn to its ready line, check it (API and topics), stop it."
        )

        @Option(help: "The port-emulator executable.")
        var executable = ".build/release/port-emulator"

        @Option(help: "Fixtures directory to load (as serve would).")
        var fixtures = "fixtures"

        func run() async throws {
            let result = try await EmulatorBenchmarks.startup(
                executable: executable,
                fixtures: fixtures,
                logger: quietLogger
            )
            print(
                "emulator-startup spawn_to_ready_ms=\(format(result.spawnToReady.milliseconds)) "
                    + "spawn_to_verified_ms=\(format(result.spawnToVerified.milliseconds)) "
                    + "in_process_start_ms=\(format(result.inProcess.milliseconds))"
            )
        }
    }

    struct KafkaStartup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "kafka-startup",
            abstract: "Start the embedded cluster and time it until it has acknowledged one produce, then exit."
        )

        func run() async throws {
            let result = try await KafkaBenchmarks.startup(logger: quietLogger)
            // bench/run.sh sets PORT_BENCH_T0_NS to the wall clock just before it execs us.
            var sinceExec = ""
            if let started = ProcessInfo.processInfo.environment["PORT_BENCH_T0_NS"].flatMap(Double.init) {
                let elapsed = (result.firstDeliveryWallClockNanoseconds - started) / 1e6
                sinceExec = "exec_to_first_delivery_ms=\(format(elapsed)) "
            }
            print(
                "kafka-startup \(sinceExec)total_ms=\(format(result.total.milliseconds)) "
                    + "cluster_ms=\(format(result.clusterStart.milliseconds)) "
                    + "topic_ms=\(format(result.topicCreation.milliseconds)) "
                    + "producer_ms=\(format(result.producerCreation.milliseconds)) "
                    + "first_delivery_ms=\(format(result.firstDelivery.milliseconds))"
            )
        }
    }

    struct KafkaThroughput: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "kafka-throughput",
            abstract: "Produce N values through the embedded cluster, then consume them with a new group."
        )

        @Option(help: "Messages to produce and consume (the embedded cluster keeps about 5 MiB per partition).")
        var messages = 12_000

        @Option(help: "Bytes per value.")
        var size = 1024

        @Option(help: "Partitions of the topic.")
        var partitions = 3

        @Option(
            name: .customLong("in-flight"),
            help: "Sends awaiting their delivery report at once (librdkafka 2.0 can stall 1 s when flooded, see #2912)."
        )
        var inFlight = 1000

        @Option(help: "direct (the mock brokers), plaintext or sasl_ssl (through the Kafka front).")
        var route = "direct"

        func validate() throws {
            guard FrontRoute(rawValue: route) != nil else {
                throw ValidationError("--route: direct, plaintext or sasl_ssl")
            }
            guard messages >= 2, size >= 0, partitions >= 1, inFlight >= 1 else {
                throw ValidationError("need --messages >= 2, --size >= 0, --partitions >= 1, --in-flight >= 1")
            }
        }

        func run() async throws {
            FileHandle.standardError.write(Data("producing and consuming \(messages) x \(size) B...\n".utf8))
            let result = try await KafkaBenchmarks.throughput(
                messages: messages,
                valueSize: size,
                partitions: partitions,
                inFlight: inFlight,
                route: FrontRoute(rawValue: route) ?? .direct,
                logger: quietLogger
            )
            print(
                "kafka-throughput route=\(route) messages=\(messages) size=\(size) "
                    + "produced_per_s=\(format(result.producedPerSecond, 0)) "
                    + "produced_MiB_per_s=\(format(result.producedMiBPerSecond)) "
                    + "consumed_per_s=\(format(result.consumedPerSecond, 0)) "
                    + "consumed_MiB_per_s=\(format(result.consumedMiBPerSecond)) "
                    + "group_join_ms=\(format(result.groupJoinTime.milliseconds)) "
                    + "longest_gap_ms=\(format(result.longestGap.milliseconds))"
            )
        }
    }

    struct HTTPServe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "http-serve",
            abstract: "Serve GET /bench -> {\"ok\":true} until SIGINT or SIGTERM, for wrk to load."
        )

        @Option(help: "Port to listen on (127.0.0.1).")
        var port = 18080

        @Option(help: "libmicrohttpd worker threads.")
        var threads = 2

        func run() async throws {
            let service = HTTPBenchmarks.Service(port: port, threads: threads, logger: quietLogger) { url in
                FileHandle.standardOutput.write(Data("listening on \(url)/bench\n".utf8))
            }
            let group = ServiceGroup(
                configuration: .init(
                    services: [service],
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: quietLogger
                )
            )
            try await group.run()
        }
    }
}
