import ChildProcesses
import Emulator
import Foundation
import KafkaBroker
import KafkaFront
package import Logging
import PortContract
import PortKafka

/// How a benchmark's clients reach Kafka: our broker through the front, or librdkafka's
/// mock cluster (a broker written in C, the embedded Kafka before ours) as the baseline.
package enum FrontRoute: String, Sendable, CaseIterable {
    /// Straight to librdkafka's mock brokers: the baseline.
    case direct
    /// Our broker through the front's plaintext listeners.
    case plaintext
    /// Our broker through the front's SASL_SSL listeners (TLS, SCRAM-SHA-512).
    case saslSSL = "sasl_ssl"

    /// Our broker behind a front (none for `direct`), with the settings clients need.
    struct Connection: Sendable {
        let bootstrapServers: [String]
        let security: KafkaSecurityProtocol
        let front: KafkaFront?
    }

    /// Starts librdkafka's mock cluster, creates `topics` (name and partitions) where this
    /// route's clients go (on the mock for `.direct`, else on a new broker of ours behind a
    /// new front), runs `body` with the connection, then stops the front and the cluster,
    /// waiting for both, whichever way `body` ends.
    func withConnection<Value: Sendable>(
        topics: [(String, Int)],
        logger: Logger,
        _ body: @escaping @Sendable (Connection) async throws -> Value
    ) async throws -> Value {
        let cluster = try EmbeddedKafkaCluster.start(logger: logger)
        return try await withCleanup {
            try await withConnection(on: cluster, topics: topics, logger: logger, body)
        } cleanup: {
            await cluster.stop()
        }
    }

    private func withConnection<Value: Sendable>(
        on cluster: EmbeddedKafkaCluster,
        topics: [(String, Int)],
        logger: Logger,
        _ body: @escaping @Sendable (Connection) async throws -> Value
    ) async throws -> Value {
        guard self != .direct else {
            for (topic, partitions) in topics { try cluster.createTopic(topic, partitions: partitions) }
            return try await body(
                Connection(bootstrapServers: cluster.bootstrapServerList, security: .plaintext, front: nil)
            )
        }
        let identity = try FrontTLSIdentity.generate()
        let caFile = NSTemporaryDirectory() + "bench-front-ca-\(UUID().uuidString).pem"
        try identity.caPEM.write(toFile: caFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: caFile) }
        // Producing needs Write, which Port's ACLs never give: the bench runs without them.
        let broker = KafkaBroker()
        for (topic, partitions) in topics { broker.createTopic(topic, partitions: Int32(partitions)) }
        var configuration = KafkaFrontConfiguration(
            broker: broker,
            plaintextPrincipal: "bench",
            acl: KafkaACL(enabled: false, orgID: "bench", readableTopics: [])
        )
        configuration.tls = identity
        configuration.users = ["bench": [.sha512: ScramCredential(mechanism: .sha512, password: "bench-password")]]
        let kind: FrontListenerKind = self == .plaintext ? .plaintext : .saslSSL
        let security: KafkaSecurityProtocol =
            self == .plaintext
            ? .plaintext
            : .saslTLS(
                KafkaSASLConfiguration(mechanism: .scramSHA512, username: "bench", password: "bench-password"),
                KafkaTLSConfiguration(caLocation: caFile)
            )
        return try await KafkaFront.withRunning(configuration: configuration, logger: logger) { front in
            try await body(Connection(bootstrapServers: front.bootstrapServers(kind), security: security, front: front))
        }
    }
}

/// The front's figures that need a client other than ours: publication to consumption with
/// each client's default fetch settings, a restarted consumer's wait for its partitions
/// (FrontBenchmarks+Restart.swift), and the parsers under random input.
package enum FrontBenchmarks {
    /// Publishes `runs` messages one at a time, each once `client` has read the one before,
    /// and returns each message's latency from its Kafka timestamp to the client's read,
    /// sorted. `route`: `.plaintext` or `.saslSSL` publish through the emulator (its
    /// publisher, on our broker) and read through the front's listener of that kind;
    /// `.direct` publishes to librdkafka's mock cluster, the embedded Kafka before ours, and
    /// reads it there. `defaults` passes `--defaults` to the client (kafka-go then keeps its
    /// own MinBytes instead of 1; the others use their defaults either way); `fetchMaxWait`
    /// nil keeps the client's fetch wait.
    package static func clientLatency(
        client: FrontClient,
        route: FrontRoute,
        defaults: Bool,
        fetchMaxWait: Int?,
        runs: Int,
        programs: FrontClientPrograms,
        logger: Logger
    ) async throws -> [Double] {
        let command = try programs.command(client)
        return try await LatencyTarget.with(route, logger: logger) { target in
            try await latencies(
                of: target,
                client: client,
                route: route,
                command: command,
                defaults: defaults,
                fetchMaxWait: fetchMaxWait,
                runs: runs,
                logger: logger
            )
        }
    }

    /// Publishes to `target` and times `client`'s reads (see `clientLatency`).
    private static func latencies(
        of target: LatencyTarget,
        client: FrontClient,
        route: FrontRoute,
        command: [String]?,
        defaults: Bool,
        fetchMaxWait: Int?,
        runs: Int,
        logger: Logger
    ) async throws -> [Double] {
        let group = "org_bench.latency"
        let reader: any MeasuredReader
        do {
            if let command {
                var arguments =
                    command + [
                        "--action", "consume", "--topic", target.topic, "--group", group, "--count", "\(runs + 1)",
                        "--timeout", "1800", "--bootstrap", target.bootstrap,
                    ] + target.securityArguments
                if defaults { arguments.append("--defaults") }
                if let fetchMaxWait { arguments += ["--fetch-max-wait-ms", "\(fetchMaxWait)"] }
                reader = try ClientProcess.start(client.rawValue, arguments)
            } else {
                reader = try PortConsumerReader(
                    bootstrap: target.bootstrap,
                    security: target.security,
                    topic: target.topic,
                    group: group,
                    fetchMaxWait: fetchMaxWait,
                    logger: logger
                )
            }
        }
        do {
            // The first message waits for the group to form; the others measure the fetch.
            for index in 0...runs {
                try await target.publish(index)
                let deadline = ContinuousClock.now + .seconds(60)
                while reader.reads().count <= index {
                    if let failure = reader.failure() {
                        throw BenchmarkError(
                            message: "\(client.rawValue) (\(route.rawValue)), message \(index): \(failure)"
                        )
                    }
                    guard ContinuousClock.now < deadline else {
                        let log = (reader as? ClientProcess)?.stderrTail() ?? ""
                        throw BenchmarkError(
                            message:
                                "\(client.rawValue) (\(route.rawValue)) did not read message \(index) within 60 s\(log)"
                        )
                    }
                    try await Task.sleep(for: .milliseconds(2))
                }
            }
        } catch {
            await reader.stop()
            throw error
        }
        let reads = reader.reads().dropFirst()
        await reader.stop()
        let latencies = reads.compactMap(\.latency)
        guard latencies.count == reads.count else {
            throw BenchmarkError(
                message: "\(client.rawValue) read \(reads.count - latencies.count) messages without a timestamp"
            )
        }
        return latencies.sorted()
    }

    /// Runs the front's parser fuzzer (`FrontFuzzer`) for `iterations` inputs.
    package static func fuzz(iterations: Int, seed: UInt64) -> (inputs: Int, accepted: Int) {
        let result = FrontFuzzer.run(iterations: iterations, seed: seed)
        return (result.inputs, result.accepted)
    }
}

/// Where a latency run publishes its messages and where its client reads them.
struct LatencyTarget: Sendable {
    /// The client's bootstrap servers, comma-separated.
    let bootstrap: String
    /// The topic published to.
    let topic: String
    /// The listener's security, for port-consumer's Kafka layer.
    let security: KafkaSecurityProtocol
    /// The same for the clients' command lines (kafka_client.py's options).
    let securityArguments: [String]
    /// Publishes message number `index` and waits for its delivery report.
    let publish: @Sendable (_ index: Int) async throws -> Void

    /// Runs `body` with an emulator (our broker behind its front) for `.plaintext` and
    /// `.saslSSL`, or librdkafka's mock cluster with a producer like the emulator's for
    /// `.direct`, and stops it whichever way `body` ends.
    static func with<Value: Sendable>(
        _ route: FrontRoute,
        logger: Logger,
        _ body: @escaping @Sendable (LatencyTarget) async throws -> Value
    ) async throws -> Value {
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        configuration.orgID = "org_bench"
        guard route != .direct else {
            let cluster = try EmbeddedKafkaCluster.start(logger: logger)
            let topic = configuration.runsTopic
            return try await withCleanup {
                try cluster.createTopic(topic, partitions: configuration.partitions)
                // As the emulator's publisher sends: acknowledged by all replicas, 1 ms linger.
                var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServerList)
                producerConfiguration.linger = .milliseconds(1)
                let producer = try KafkaProducer.make(configuration: producerConfiguration, logger: logger)
                let target = LatencyTarget(
                    bootstrap: cluster.bootstrapServers,
                    topic: topic,
                    security: .plaintext,
                    securityArguments: [],
                    publish: { index in
                        let value = JSONValue.object(["n": .int(Int64(index))]).compactBytes
                        _ = try await producer.send(
                            KafkaProducerMessage(topic: topic, key: Array("r_bench\(index)".utf8), value: value)
                        )
                    }
                )
                return try await withCleanup {
                    try await body(target)
                } cleanup: {
                    await producer.close(timeout: .seconds(5))
                }
            } cleanup: {
                await cluster.stop()
            }
        }
        return try await PortEmulator.withRunning(configuration: configuration, logger: logger) { emulator in
            let info = emulator.info
            var bootstrap = info.kafkaBootstrapServers
            var security = KafkaSecurityProtocol.plaintext
            var arguments: [String] = []
            if route == .saslSSL {
                guard let saslSSL = info.kafkaSASLSSLBootstrapServers, let username = info.kafkaUsername,
                    let password = info.kafkaPassword, let caFile = info.kafkaCALocation
                else {
                    throw BenchmarkError(message: "the emulator has no SASL_SSL listener")
                }
                bootstrap = saslSSL
                security = .saslTLS(
                    KafkaSASLConfiguration(mechanism: .scramSHA512, username: username, password: password),
                    KafkaTLSConfiguration(caLocation: caFile)
                )
                arguments = [
                    "--security", "SASL_SSL", "--mechanism", "SCRAM-SHA-512", "--username", username, "--password",
                    password, "--ca", caFile,
                ]
            }
            let target = LatencyTarget(
                bootstrap: bootstrap,
                topic: info.runsTopic,
                security: security,
                securityArguments: arguments,
                publish: { index in
                    _ = try await emulator.publisher.publishRaw(
                        .object(["n": .int(Int64(index))]),
                        runID: "r_bench\(index)"
                    )
                }
            )
            return try await body(target)
        }
    }
}
