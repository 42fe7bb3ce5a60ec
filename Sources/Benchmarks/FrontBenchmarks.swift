import ChildProcesses
import Emulator
import Foundation
import Kafka
import KafkaBroker
import KafkaFront
package import Logging
import PortContract

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
    struct Connection {
        let bootstrapServers: [String]
        let security: KafkaSecurityProtocol
        let front: KafkaFront?
        let caFile: String?

        /// `topics` (name and partitions) exist on either side.
        static func open(
            _ route: FrontRoute,
            cluster: EmbeddedKafkaCluster,
            topics: [(String, Int)],
            logger: Logger
        ) async throws -> Connection {
            guard route != .direct else {
                return Connection(
                    bootstrapServers: cluster.bootstrapServerList,
                    security: .plaintext,
                    front: nil,
                    caFile: nil
                )
            }
            let identity = try FrontTLSIdentity.generate()
            let caFile = NSTemporaryDirectory() + "bench-front-ca-\(UUID().uuidString).pem"
            try identity.caPEM.write(toFile: caFile, atomically: true, encoding: .utf8)
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
            let front = try await KafkaFront.start(configuration: configuration, logger: logger)
            let kind: FrontListenerKind = route == .plaintext ? .plaintext : .saslSSL
            let security: KafkaSecurityProtocol =
                route == .plaintext
                ? .plaintext
                : .saslTLS(
                    KafkaSASLConfiguration(mechanism: .scramSHA512, username: "bench", password: "bench-password"),
                    KafkaTLSConfiguration(caLocation: caFile)
                )
            return Connection(
                bootstrapServers: front.bootstrapServers(kind),
                security: security,
                front: front,
                caFile: caFile
            )
        }

        func close() {
            if let caFile { try? FileManager.default.removeItem(atPath: caFile) }
            if let front { Task { await front.stop() } }
        }
    }
}

/// The front's figures that need a client other than ours: publication to consumption with
/// a Python client's default fetch settings, and the parsers under random input.
package enum FrontBenchmarks {
    /// Publishes `runs` messages one at a time, each once the Python `client` (run from
    /// `script`, Tests/KafkaFrontTests/Clients/kafka_client.py) has read the one before,
    /// and returns each message's latency from its Kafka timestamp to the client's read.
    /// `fetchMaxWait` nil keeps the client's default; `direct` reads the mock brokers
    /// behind the front.
    package static func clientLatency(
        client: String,
        fetchMaxWait: Int?,
        direct: Bool,
        runs: Int,
        script: String,
        logger: Logger
    ) async throws -> [Double] {
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        configuration.orgID = "org_bench"
        let emulator = try await PortEmulator.start(configuration: configuration, logger: logger)
        let output = NSTemporaryDirectory() + "bench-client-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: output) }
        var arguments = [
            "python3", script, "--client", client, "--action", "consume", "--topic", emulator.info.runsTopic, "--group",
            "org_bench.latency", "--count", "\(runs + 1)", "--timeout", "600", "--bootstrap",
            direct ? emulator.internalKafkaBootstrapServers! : emulator.info.kafkaBootstrapServers,
        ]
        if let fetchMaxWait { arguments += ["--fetch-max-wait-ms", "\(fetchMaxWait)"] }
        let process = try ChildProcess.spawn(
            arguments,
            environment: ProcessInfo.processInfo.environment,
            outputPath: output
        )
        func events() -> [JSONObject] {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { (try? JSONValue.parse(Array($0.utf8)))?.objectValue }
                .filter { $0["event"]?.stringValue == "message" }
        }
        // The first message waits for the group to form; the others measure the fetch.
        for index in 0...runs {
            _ = try await emulator.publisher.publishRaw(.object(["n": .int(Int64(index))]), runID: "r_bench\(index)")
            let deadline = ContinuousClock.now + .seconds(60)
            while events().count <= index {
                guard ContinuousClock.now < deadline, process.termination == nil else {
                    process.signal(SIGTERM)
                    await emulator.stop()
                    throw BenchmarkError(message: "\(client) did not read message \(index) within 60 s (\(output))")
                }
                try await Task.sleep(for: .milliseconds(2))
            }
        }
        let latencies = events().dropFirst().compactMap { event -> Double? in
            guard let at = event["at"]?.doubleValue, let stamp = event["timestamp"]?.doubleValue else { return nil }
            return at * 1000 - stamp
        }
        process.signal(SIGTERM)
        _ = await process.wait()
        await emulator.stop()
        return latencies.sorted()
    }

    /// Runs the front's parser fuzzer (`FrontFuzzer`) for `iterations` inputs.
    package static func fuzz(iterations: Int, seed: UInt64) -> (inputs: Int, accepted: Int) {
        let result = FrontFuzzer.run(iterations: iterations, seed: seed)
        return (result.inputs, result.accepted)
    }
}
