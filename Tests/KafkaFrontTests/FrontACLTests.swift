import Emulator
import Foundation
import Kafka
import TestSupport
import Testing

@Suite("Port's ACLs on the front: group prefix, read-only topics, --kafka-acls off")
struct FrontACLTests {
    /// The error each client reports for a Kafka error code, in its own words.
    static func clientError(_ client: KafkaClient, code: Int) -> [String] {
        switch (client, code) {
        case (.confluent, 29): ["TOPIC_AUTHORIZATION_FAILED"]
        case (.confluent, 30): ["GROUP_AUTHORIZATION_FAILED"]
        case (_, 29): ["TopicAuthorizationFailedError"]
        case (_, 30): ["GroupAuthorizationFailedError"]
        default: []
        }
    }

    static let pythonClients: [KafkaClient] = [.confluent, .kafkaPython, .aiokafka]

    @Test(
        "a group without the ORG_ID. prefix is refused with 30, and the refusal is a violation",
        arguments: pythonClients
    )
    func groupRefused(client: KafkaClient) async throws {
        let harness = try await FrontHarness.start()
        try await harness.publish(1, tag: "m")
        let run = try await Clients.python(
            [
                "--client", client.rawValue, "--action", "consume", "--topic", harness.info.runsTopic, "--group",
                "my-group",
                "--timeout", "20",
            ] + harness.connection(.plaintext)
        )
        #expect(run.status == 2, "\(run)")
        let error = try #require(run.error, "\(run)")
        #expect(
            Self.clientError(client, code: 30).contains { error.name.contains($0) || error.message.contains($0) },
            "\(run)"
        )
        #expect(run.messages.isEmpty)
        let violation = try #require(harness.emulator.recorder.violations.first { $0.rule == "kafka-group-acl" })
        #expect(violation.status == 30)
        #expect(violation.code == "GROUP_AUTHORIZATION_FAILED")
        #expect(violation.method == "KAFKA")
        #expect(violation.path.hasSuffix("group:my-group"))
        #expect(
            violation.message
                == "consumer group `my-group` refused: Port's ACLs allow only `org_front.*` or the Kafka username `org_front`"
        )
        await harness.stop()
    }

    @Test(
        "a produce by the customer is refused with 29 on both listeners",
        arguments: pythonClients,
        ListenerMode.allCases
    )
    func produceRefused(client: KafkaClient, mode: ListenerMode) async throws {
        let harness = try await FrontHarness.start()
        let run = try await Clients.python(
            ["--client", client.rawValue, "--action", "produce", "--topic", harness.info.runsTopic, "--timeout", "20"]
                + harness.connection(mode)
        )
        #expect(run.status == 2, "\(run)")
        let error = try #require(run.error, "\(run)")
        #expect(
            Self.clientError(client, code: 29).contains { error.name.contains($0) || error.message.contains($0) },
            "\(run)"
        )
        let violation = try #require(harness.emulator.recorder.violations.first { $0.rule == "kafka-topic-write-acl" })
        #expect(violation.status == 29)
        #expect(violation.path == "Produce topic:org_front.runs")
        #expect(violation.clientID == "org_front")
        await harness.stop()
    }

    @Test("a group equal to the Kafka username is allowed; another topic is not described")
    func usernameGroupAndOtherTopics() async throws {
        let harness = try await FrontHarness.start()
        let published = try await harness.publish(1, tag: "u")
        let run = try await Clients.python(
            [
                "--client", "confluent", "--action", "consume", "--topic", harness.info.runsTopic, "--group",
                harness.info.kafkaUsername!, "--timeout", "30",
            ] + harness.connection(.saslSSL)
        )
        #expect(run.status == 0, "\(run)")
        #expect(run.messages == published)

        // A topic of another organization exists behind the front: listings leave it out,
        // and asking for it by name is refused with 29.
        let behind = try #require(harness.emulator.internalKafkaBootstrapServers)
        let producer = try KafkaProducer.make(
            configuration: KafkaProducerConfiguration(bootstrapServers: [behind]),
            logger: quietLogger
        )
        _ = try await producer.send(KafkaProducerMessage(topic: "org_other.runs", value: "theirs"))
        await producer.close()
        for client in ["kafka-python", "confluent"] {
            let metadata = try await Clients.python(
                ["--client", client, "--action", "metadata", "--topic", "x"] + harness.connection(.plaintext)
            )
            let topics = metadata.events.first { $0.kind == "metadata" }?.fields["topics"]?.arrayValue?
                .compactMap(\.stringValue)
            #expect(topics == ["org_front.change.log", "org_front.runs"], "\(metadata)")
        }
        let named = try await Clients.kcat(["-L", "-t", "org_other.runs"] + harness.kcatSettings(.plaintext))
        #expect(named.messages.contains { $0.contains("Topic authorization failed") }, "\(named)")
        #expect(harness.emulator.recorder.violations.contains { $0.path == "Metadata topic:org_other.runs" })
        await harness.stop()
    }

    @Test("--kafka-acls off lets any group and a produce through", arguments: pythonClients)
    func aclsOff(client: KafkaClient) async throws {
        let harness = try await FrontHarness.start(acls: false)
        let produced = try await Clients.python(
            ["--client", client.rawValue, "--action", "produce", "--topic", harness.info.runsTopic, "--timeout", "20"]
                + harness.connection(.plaintext)
        )
        #expect(produced.status == 0, "\(produced)")
        let run = try await Clients.python(
            [
                "--client", client.rawValue, "--action", "consume", "--topic", harness.info.runsTopic, "--group",
                "my-group",
                "--timeout", "30",
            ] + harness.connection(.plaintext)
        )
        #expect(run.status == 0, "\(run)")
        #expect(run.messages.count == 1)
        #expect(harness.emulator.recorder.violations.isEmpty)
        await harness.stop()
    }
}
