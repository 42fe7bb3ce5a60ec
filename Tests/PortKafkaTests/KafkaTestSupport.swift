import Logging
import PortKafka
import TestSupport

/// A logger that drops everything, so librdkafka's expected connection errors stay out of test output.
let quietLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

/// Reads from `consumer` until `count` messages have arrived, within `limit`.
func read(
    _ count: Int,
    from consumer: KafkaConsumer,
    within limit: Duration = .seconds(30),
    commitEach: Bool = false
) async throws -> [KafkaConsumerMessage] {
    try await withDeadline(limit, "\(count) messages") {
        var received: [KafkaConsumerMessage] = []
        for try await message in consumer.messages {
            received.append(message)
            if commitEach { try await consumer.commit(message) }
            if received.count == count { break }
        }
        return received
    }
}

/// Client settings that make tests against the embedded cluster quick to connect and rebalance.
let fastClientProperties = [
    "reconnect.backoff.ms": "50",
    "reconnect.backoff.max.ms": "500",
    "topic.metadata.refresh.interval.ms": "1000",
]

func makeProducer(_ cluster: EmbeddedKafkaCluster, messageTimeout: Duration = .seconds(60)) throws -> KafkaProducer {
    var configuration = KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServerList)
    configuration.linger = .milliseconds(1)
    configuration.messageTimeout = messageTimeout
    configuration.additionalProperties = fastClientProperties
    return try KafkaProducer.make(configuration: configuration, logger: quietLogger)
}

func makeConsumer(_ cluster: EmbeddedKafkaCluster, group: String, topics: [String]) throws -> KafkaConsumer {
    var configuration = KafkaConsumerConfiguration(bootstrapServers: cluster.bootstrapServerList, groupID: group)
    // After a member leaves, the mock coordinator waits session timeout - 1 s for members
    // to rejoin before a newcomer gets its assignment; keep that short.
    configuration.sessionTimeout = .seconds(3)
    configuration.heartbeatInterval = .milliseconds(200)
    configuration.additionalProperties = fastClientProperties
    let consumer = try KafkaConsumer.make(configuration: configuration, logger: quietLogger)
    try consumer.subscribe(topics: topics)
    return consumer
}

extension KafkaConsumerMessage {
    /// The message's identity across producers and consumers: where it is stored.
    var position: String { "\(topic)[\(partition)]@\(offset)" }
}
