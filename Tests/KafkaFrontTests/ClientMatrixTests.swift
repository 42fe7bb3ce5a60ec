import Emulator
import Foundation
import Kafka
import PortContract
import Synchronization
import TestSupport
import Testing

/// The independent clients of the matrix.
enum KafkaClient: String, CaseIterable, CustomStringConvertible, Sendable {
    /// port-consumer's own Kafka layer (the `Kafka` module over Debian's librdkafka 2.0.2).
    case portConsumer = "port-consumer"
    case kcat
    case confluent
    case kafkaPython = "kafka-python"
    /// The current kafka-python, from the virtual environment `make deps` makes.
    case kafkaPython3 = "kafka-python-3"
    case aiokafka

    var description: String { rawValue }
}

@Suite("Independent Kafka clients through the front, plaintext and SASL_SSL")
struct ClientMatrixTests {
    /// Consumes `count` messages with `group` and commits each, as `client` does it.
    static func consume(
        _ client: KafkaClient,
        _ harness: FrontHarness,
        _ mode: ListenerMode,
        group: String,
        count: Int
    ) async throws -> ClientRun {
        let topic = harness.info.runsTopic
        switch client {
        case .portConsumer:
            return try await portConsumerKafka(harness, mode, group: group, count: count)
        case .kcat:
            // kcat's balanced consumer commits what it read when it closes, after -c messages.
            return try await Clients.kcat(
                [
                    "-q", "-C", "-G", group, "-c", "\(count)", "-f", "%s\\n", "-X", "auto.offset.reset=earliest", "-X",
                    "session.timeout.ms=3000", "-X", "heartbeat.interval.ms=500",
                ]
                    + harness.kcatSettings(mode) + [topic]
            )
        case .kafkaPython3:
            return try await Clients.python(
                [
                    "--client", "kafka-python", "--action", "consume", "--topic", topic, "--group", group, "--count",
                    "\(count)", "--timeout", "45",
                ] + harness.connection(mode),
                interpreter: Clients.kafkaPython3
            )
        default:
            return try await Clients.python(
                [
                    "--client", client.rawValue, "--action", "consume", "--topic", topic, "--group", group, "--count",
                    "\(count)", "--timeout", "45",
                ] + harness.connection(mode)
            )
        }
    }

    /// Reads `count` messages as port-consumer does (its `Kafka` module), committing each.
    static func portConsumerKafka(
        _ harness: FrontHarness,
        _ mode: ListenerMode,
        group: String,
        count: Int
    ) async throws -> ClientRun {
        let info = harness.info
        var configuration = KafkaConsumerConfiguration(
            bootstrapServers: [mode == .plaintext ? info.kafkaBootstrapServers : info.kafkaSASLSSLBootstrapServers!],
            groupID: group
        )
        if mode == .saslSSL {
            configuration.securityProtocol = .saslTLS(
                KafkaSASLConfiguration(
                    mechanism: .scramSHA512,
                    username: info.kafkaUsername!,
                    password: info.kafkaPassword!
                ),
                KafkaTLSConfiguration(caLocation: info.kafkaCALocation)
            )
        }
        configuration.sessionTimeout = .seconds(3)
        configuration.heartbeatInterval = .milliseconds(500)
        let consumer = try KafkaConsumer.make(configuration: configuration, logger: quietLogger)
        try consumer.subscribe(topics: [info.runsTopic])
        let values = Mutex<[String]>([])
        do {
            try await withDeadline(.seconds(45), "\(count) messages through port-consumer's Kafka") {
                for try await message in consumer.messages {
                    let total = values.withLock { values in
                        values.append(message.valueString ?? "")
                        return values.count
                    }
                    try await consumer.commit(message)
                    if total == count { return }
                }
            }
        } catch {
            await consumer.close()
            return ClientRun(status: 2, events: [], errors: "\(error)")
        }
        await consumer.close()
        let events = values.withLock { $0 }.map {
            ClientEvent(fields: JSONObject([("event", .string("message")), ("value", .string($0))]))
        }
        return ClientRun(status: 0, events: events, errors: "")
    }

    @Test(
        "each client consumes with a group, commits, and a restart resumes from the committed offset",
        arguments: KafkaClient.allCases,
        ListenerMode.allCases
    )
    func consumeCommitResume(client: KafkaClient, mode: ListenerMode) async throws {
        let harness = try await FrontHarness.start()
        let group = "\(harness.info.orgID).\(client.rawValue)-\(mode.rawValue.lowercased())"
        let first = try await harness.publish(2, tag: "first")
        let run = try await Self.consume(client, harness, mode, group: group, count: 2)
        #expect(run.status == 0, "\(run)")
        #expect(Set(run.messages) == Set(first), "\(run)")

        let second = try await harness.publish(1, tag: "second")
        let resumed = try await Self.consume(client, harness, mode, group: group, count: 1)
        #expect(resumed.status == 0, "\(resumed)")
        #expect(resumed.messages == second, "only the message after the commit: \(resumed)")
        #expect(harness.emulator.recorder.violations.isEmpty, "\(harness.emulator.recorder.violations)")
        await harness.stop()
    }
}
