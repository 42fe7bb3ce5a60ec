import Emulator
import Foundation
import Logging
import PortContract
import PortKafka
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

let quietLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

/// A port seen inside a scoped emulator, read after it.
private final class PortBox: Sendable {
    private let port = Mutex(0)
    func set(_ value: Int) { port.withLock { $0 = value } }
    var value: Int { port.withLock { $0 } }
}

@Suite("port-emulator foundation", .heavy, .timeLimit(.minutes(10)))
struct PortEmulatorTests {
    @Test("serve creates the org's topics with the configured partitions and reports where everything is")
    func startsKafkaAndHTTP() async throws {
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        configuration.orgID = "org_test"
        configuration.partitions = 3
        let port = try await PortEmulator.withRunning(configuration: configuration, logger: quietLogger) { emulator in
            try await Self.checkFoundation(emulator)
        }
        // withRunning returns once the emulator has stopped.
        #expect(!RawHTTPClient.canConnect(port: port))
    }

    /// Checks the API's info and health and the topics' partitions; returns the API's port.
    private static func checkFoundation(_ emulator: PortEmulator) async throws -> Int {
        let port = try #require(Int(emulator.info.apiBaseURL.split(separator: ":").last ?? ""))

        let info = try await RawHTTPClient.send(port: port, method: "GET", path: "/_emulator/info")
        #expect(info.status == 200)
        #expect(info.headers["x-trace-id"]?.count == 32)
        let decoded = try JSONDecoder().decode(EmulatorInfo.self, from: Data(info.body))
        #expect(decoded == emulator.info)
        #expect(decoded.runsTopic == "org_test.runs")
        #expect(decoded.changeLogTopic == "org_test.change.log")
        #expect(decoded.apiURL == "http://127.0.0.1:\(port)/v1")
        #expect(emulator.info.readyLine.contains("kafka=\(decoded.kafkaBootstrapServers)"))

        let health = try await RawHTTPClient.send(port: port, method: "GET", path: "/_emulator/health")
        #expect(health.status == 200)
        #expect(health.bodyString == #"{"ok":true}"#)

        // Port's ACLs refuse a customer's produce: write as Port does, to the brokers behind the front.
        var producerConfiguration = KafkaProducerConfiguration(
            bootstrapServers: try #require(emulator.internalKafkaBootstrapServers).split(separator: ",").map(
                String.init
            )
        )
        producerConfiguration.messageTimeout = .seconds(30)
        let producer = try KafkaProducer.make(configuration: producerConfiguration, logger: quietLogger)
        for topic in [decoded.runsTopic, decoded.changeLogTopic] {
            let report = try await producer.send(KafkaProducerMessage(topic: topic, partition: 2, value: "{}"))
            #expect(report.partition == 2)
            let error = await #expect(throws: KafkaError.self) {
                try await producer.send(KafkaProducerMessage(topic: topic, partition: 3, value: "{}"))
            }
            #expect(error?.code == .unknownTopicOrPartition)
        }
        await producer.close()
        return port
    }

    @Test("as a service of the caller's group: serves until the group shuts down gracefully, then stops")
    func asService() async throws {
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        let emulator = try await PortEmulator.make(configuration: configuration, logger: quietLogger)
        let port = try #require(Int(emulator.info.apiBaseURL.split(separator: ":").last ?? ""))
        let group = ServiceGroup(services: [emulator], logger: quietLogger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let health = try await RawHTTPClient.send(port: port, method: "GET", path: "/_emulator/health")
            #expect(health.status == 200)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(!RawHTTPClient.canConnect(port: port))
    }

    @Test("withRunning rethrows what its body throws, after stopping the emulator")
    func scopedLifecycleOnError() async throws {
        struct Failed: Error {}
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        let port = PortBox()
        await #expect(throws: Failed.self) {
            try await PortEmulator.withRunning(configuration: configuration, logger: quietLogger) { emulator in
                port.set(Int(emulator.info.apiBaseURL.split(separator: ":").last ?? "") ?? 0)
                #expect(
                    try await RawHTTPClient.send(port: port.value, method: "GET", path: "/_emulator/health").status
                        == 200
                )
                throw Failed()
            }
        }
        #expect(port.value > 0)
        #expect(!RawHTTPClient.canConnect(port: port.value))
    }

    @Test(
        "bad settings are refused with a message that names them",
        arguments: ["org id", "partitions", "port 70000", "brokers", "Kafka bootstrap server 'kafka'"]
    )
    func invalidConfiguration(named: String) async {
        var configuration = EmulatorConfiguration()
        switch named {
        case "org id": configuration.orgID = "org with spaces"
        case "partitions": configuration.partitions = 0
        case "port 70000": configuration.port = 70000
        case "brokers": configuration.brokers = 0
        default: configuration.externalKafka = ExternalKafka(bootstrapServers: ["kafka"])
        }
        let error = await #expect(throws: EmulatorError.self) {
            // Scoped: should it start after all, it stops again.
            try await PortEmulator.withRunning(configuration: configuration, logger: quietLogger) { _ in }
        }
        #expect(error?.message.contains(named) == true)
    }

    @Test("a port already in use is refused with a hint to choose another")
    func portInUse() async throws {
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        let base = configuration
        try await PortEmulator.withRunning(configuration: base, logger: quietLogger) { first in
            var second = base
            second.port = try #require(Int(first.info.apiBaseURL.split(separator: ":").last ?? ""))
            let error = await #expect(throws: EmulatorError.self) {
                // Scoped: should it start after all, it stops again.
                try await PortEmulator.withRunning(configuration: second, logger: quietLogger) { _ in }
            }
            #expect(error?.message.contains("Address already in use") == true)
            #expect(error?.message.contains("port 0 for a free one") == true)
        }
    }
}

@Suite("Command-line durations", .heavy, .timeLimit(.minutes(10)))
struct DurationTextTests {
    @Test(
        "durations are read as people write them",
        arguments: [
            ("500ms", Duration.milliseconds(500)), ("30s", .seconds(30)), ("5m", .seconds(300)),
            ("3h", .seconds(10_800)), ("2d", .seconds(172_800)), ("90", .seconds(90)), ("1.5s", .milliseconds(1500)),
        ]
    )
    func valid(text: String, expected: Duration) {
        #expect(DurationText.parse(text) == expected)
    }

    @Test("anything else is refused", arguments: ["", "soon", "-5s", "5 m", "ms", "1w"])
    func invalid(text: String) {
        #expect(DurationText.parse(text) == nil)
    }

}

@Suite("External Kafka (--kafka-bootstrap)", .heavy, .timeLimit(.minutes(10)))
struct ExternalKafkaTests {
    @Test("an external cluster that has the topics is used as it is")
    func externalKafka() async throws {
        let external = try EmbeddedKafkaCluster.start(logger: quietLogger)
        for topic in ["org_ext.runs", "org_ext.change.log"] { try external.createTopic(topic, partitions: 2) }
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        configuration.orgID = "org_ext"
        configuration.externalKafka = ExternalKafka(bootstrapServers: [external.bootstrapServers])
        try await PortEmulator.withRunning(configuration: configuration, logger: quietLogger) { emulator in
            #expect(emulator.info.kafka == "external")
            #expect(emulator.info.kafkaBootstrapServers == external.bootstrapServers)
        }
        await external.stop()
    }

    @Test("missing topics are created, or the error says how to fix it")
    func externalKafkaWithoutTopics() async throws {
        let external = try EmbeddedKafkaCluster.start(logger: quietLogger)
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        configuration.orgID = "org_bare"
        var settings = ExternalKafka(bootstrapServers: [external.bootstrapServers])
        settings.connectTimeout = .seconds(2)
        configuration.externalKafka = settings
        // The embedded cluster has no CreateTopics API, so this takes the error path.
        let error = await #expect(throws: EmulatorError.self) {
            // Scoped: should it start after all, it stops again.
            try await PortEmulator.withRunning(configuration: configuration, logger: quietLogger) { _ in }
        }
        #expect(error?.message.contains("org_bare.runs, org_bare.change.log do not exist") == true)
        #expect(error?.message.contains("grant this user CreateTopics") == true, "\(error?.message ?? "")")
        await external.stop()
    }

    @Test("unreachable brokers are a clear error within the connect timeout")
    func unreachableKafka() async throws {
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        var external = ExternalKafka(bootstrapServers: ["127.0.0.1:1"])
        external.connectTimeout = .seconds(1)
        configuration.externalKafka = external
        // Not a hang: start-up gives up (a deadline, not a bound on its speed, which a loaded
        // machine overran once: 20.7 s for a 1 s timeout with a build beside it).
        let unreachable = configuration
        let outcome = try await withDeadline(.seconds(120), "start-up to give up on unreachable brokers") {
            do {
                // Scoped: should it start after all, it stops again.
                try await PortEmulator.withRunning(configuration: unreachable, logger: quietLogger) { _ in }
                return "started"
            } catch let error as EmulatorError {
                return error.message
            }
        }
        #expect(outcome.contains("cannot reach Kafka at 127.0.0.1:1"), "\(outcome)")
    }
}
