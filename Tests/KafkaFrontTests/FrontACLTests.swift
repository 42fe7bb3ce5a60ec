import Emulator
import Foundation
import PortContract
import PortKafka
import TestSupport
import Testing

@Suite("Port's ACLs on the front: group prefix, read-only topics, --kafka-acls off", .heavy, .timeLimit(.minutes(10)))
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
        try await FrontHarness.run { harness in
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
        }
    }

    @Test(
        "a produce by the customer is refused with 29 on both listeners",
        arguments: pythonClients,
        ListenerMode.allCases
    )
    func produceRefused(client: KafkaClient, mode: ListenerMode) async throws {
        try await FrontHarness.run { harness in
            let run = try await Clients.python(
                [
                    "--client", client.rawValue, "--action", "produce", "--topic", harness.info.runsTopic, "--timeout",
                    "20",
                ]
                    + harness.connection(mode)
            )
            #expect(run.status == 2, "\(run)")
            let error = try #require(run.error, "\(run)")
            #expect(
                Self.clientError(client, code: 29).contains { error.name.contains($0) || error.message.contains($0) },
                "\(run)"
            )
            let violation = try #require(
                harness.emulator.recorder.violations.first { $0.rule == "kafka-topic-write-acl" }
            )
            #expect(violation.status == 29)
            #expect(violation.path == "Produce topic:org_front.runs")
            #expect(violation.clientID == "org_front")
        }
    }

    @Test("a group equal to the Kafka username is allowed; another topic is not described")
    func usernameGroupAndOtherTopics() async throws {
        try await FrontHarness.run { harness in
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
            harness.emulator.createKafkaTopic("org_other.runs", partitions: 1)
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
        }
    }

    @Test("--kafka-acls off lets any group and a produce through", arguments: pythonClients)
    func aclsOff(client: KafkaClient) async throws {
        try await FrontHarness.run(acls: false) { harness in
            let produced = try await Clients.python(
                [
                    "--client", client.rawValue, "--action", "produce", "--topic", harness.info.runsTopic, "--timeout",
                    "20",
                ]
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
        }
    }
}

@Suite("The front's listeners and settings", .heavy, .timeLimit(.minutes(10)))
struct FrontListenerTests {
    /// A port with the next one free too, found by binding both (another process may still
    /// take them before the test does: it retries with others).
    static func freePortPair() -> Int? {
        for _ in 0..<50 {
            let port = Int.random(in: 20_000...60_000)
            if RawHTTPClient.canConnect(port: port) || RawHTTPClient.canConnect(port: port + 1) { continue }
            return port
        }
        return nil
    }

    @Test("--kafka-port fixes the listeners' ports; a port taken stops start-up with a message saying so")
    func fixedPorts() async throws {
        var started = false
        for _ in 0..<5 {
            let base = try #require(Self.freePortPair())
            var configuration = EmulatorConfiguration()
            configuration.port = 0
            configuration.kafkaFront.port = base
            do {
                try await PortEmulator.withRunning(configuration: configuration, logger: quietLogger) { emulator in
                    #expect(emulator.info.kafkaBootstrapServers == "127.0.0.1:\(base)")
                    #expect(emulator.info.kafkaSASLSSLBootstrapServers == "127.0.0.1:\(base + 1)")
                    let kcat = try await Clients.kcat(["-L", "-b", "127.0.0.1:\(base)", "-m", "30"])
                    #expect(kcat.messages.contains { $0.contains("broker 1 at 127.0.0.1:\(base)") }, "\(kcat)")

                    var clash = EmulatorConfiguration()
                    clash.port = 0
                    clash.kafkaFront.port = base
                    let error = await #expect(throws: EmulatorError.self) {
                        // Scoped: should it start after all, it stops again.
                        try await PortEmulator.withRunning(configuration: clash, logger: quietLogger) { _ in }
                    }
                    #expect(
                        error?.message.contains("the Kafka front did not start") == true,
                        "\(String(describing: error))"
                    )
                    #expect(error?.message.contains("--kafka-port 0 picks free ones") == true)
                }
                started = true
                break
            } catch let error as EmulatorError where error.message.contains("the Kafka front did not start") {
                continue  // another process took a port of the pair first: try another pair
            }
        }
        try #require(started)
    }
}
