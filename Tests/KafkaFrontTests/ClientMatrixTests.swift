import Emulator
import Foundation
import PortContract
import PortKafka
import Synchronization
import TestSupport
import Testing

/// The independent clients of the matrix.
enum KafkaClient: String, CaseIterable, CustomStringConvertible, Sendable {
    /// port-consumer's own Kafka layer (the `Kafka` module over Debian's librdkafka 2.0.2).
    case portConsumer = "port-consumer"
    case kcat
    case confluent
    /// confluent-kafka with the cooperative (incremental) protocol instead of the eager one.
    case confluentCooperative = "confluent-cooperative-sticky"
    case kafkaPython = "kafka-python"
    /// The current kafka-python, from the virtual environment `make deps` makes.
    case kafkaPython3 = "kafka-python-3"
    case aiokafka
    /// Go's sarama (Debian's 1.22.1) at its lowest consumer-group protocol version…
    case saramaLowest = "sarama-0.10.2.0"
    /// …and at the highest version it knows (Metadata v7, Fetch v10, JoinGroup v3…).
    case saramaHighest = "sarama-2.2.0"
    /// Go's kafka-go reader with a group (Debian's 0.2.1: Fetch v2, message format v1).
    case kafkaGo = "kafka-go"

    var description: String { rawValue }

    /// The listeners a client is tried on: every one, but kafka-go 0.2.1 has no SASL at all.
    var modes: [ListenerMode] { self == .kafkaGo ? [.plaintext] : ListenerMode.allCases }

    /// Every client on every listener it can use.
    static var matrix: [(KafkaClient, ListenerMode)] {
        allCases.flatMap { client in client.modes.map { (client, $0) } }
    }
}

@Suite("Independent Kafka clients through the front, plaintext and SASL_SSL", .heavy, .timeLimit(.minutes(10)))
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
                    "-q", "-C", "-G", group, "-c", "\(count)", "-f", "%s\\n", "-X", "auto.offset.reset=earliest",
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
        case .saramaLowest, .saramaHighest:
            return try await Clients.go(
                "sarama_client",
                [
                    "--action", "consume", "--topic", topic, "--group", group, "--count", "\(count)", "--timeout", "45",
                    "--kafka-version", client == .saramaLowest ? "min" : "max",
                ] + harness.connection(mode)
            )
        case .confluentCooperative:
            return try await Clients.python(
                [
                    "--client", "confluent", "--action", "consume", "--topic", topic, "--group", group, "--count",
                    "\(count)", "--timeout", "45", "--strategy", "cooperative-sticky",
                ] + harness.connection(mode)
            )
        case .kafkaGo:
            // kafka-go 0.2.1 never sends LeaveGroup when it closes (its bug): a short session
            // lets the restarted reader's rebalance drop the old member sooner.
            return try await Clients.go(
                "kafkago_client",
                [
                    "--action", "consume", "--topic", topic, "--group", group, "--count", "\(count)", "--timeout", "45",
                    "--session-timeout-ms", "6000",
                ] + harness.connection(mode)
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
        arguments: KafkaClient.matrix
    )
    func consumeCommitResume(client: KafkaClient, mode: ListenerMode) async throws {
        try await FrontHarness.run { harness in
            let group = "\(harness.info.orgID).\(client.rawValue)-\(mode.rawValue.lowercased())"
            let first = try await harness.publish(2, tag: "first")
            let run = try await Self.consume(client, harness, mode, group: group, count: 2)
            #expect(run.status == 0, "\(run)")
            #expect(Set(run.messages) == Set(first), "\(run)")

            let second = try await harness.publish(1, tag: "second")
            let resumed = try await Self.consume(client, harness, mode, group: group, count: 1)
            #expect(resumed.status == 0, "\(resumed)")
            #expect(resumed.messages == second, "only the message after the commit: \(resumed)")
            // Another test's client, still retrying a port this emulator has since taken, can
            // land here (seen twice: a refused `my-group`, and a Metadata for
            // `org_emulator.runs` on the plaintext listener). This client names only its own
            // group and this organization's topics; every violation it could cause names them.
            let orgID = harness.info.orgID
            let own = harness.emulator.recorder.violations.filter {
                !($0.path.contains("group:") && !$0.path.hasSuffix("group:\(group)"))
                    && !($0.path.contains("topic:") && !$0.path.contains("topic:\(orgID)."))
            }
            #expect(own.isEmpty, "\(harness.emulator.recorder.violations)")
        }
    }
}
