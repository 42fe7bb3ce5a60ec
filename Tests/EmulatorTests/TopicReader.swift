import Emulator
import Foundation
import PortContract
import PortKafka
import Synchronization
import TestSupport

/// Reads every partition of a topic from the beginning, outside any consumer group (so no
/// group join to wait for), and keeps what arrives for the test to look up.
final class TopicReader: Sendable {
    private let consumer: KafkaConsumer
    private final class Received: Sendable {
        let messages = Mutex<[KafkaConsumerMessage]>([])
    }

    private let received = Received()
    private let reading = Mutex<Task<Void, Never>?>(nil)

    init(bootstrapServers: String, topic: String, partitions: Int) throws {
        let configuration = KafkaConsumerConfiguration(
            bootstrapServers: bootstrapServers.split(separator: ",").map(String.init),
            groupID: "test-reader-\(UUID().uuidString)"
        )
        consumer = try KafkaConsumer.make(configuration: configuration, logger: quietLogger)
        try consumer.assign((0..<partitions).map { KafkaTopicPartition(topic: topic, partition: Int32($0)) })
        let task = Task { [consumer, received] in
            do {
                for try await message in consumer.messages { received.messages.withLock { $0.append(message) } }
            } catch {}
        }
        reading.withLock { $0 = task }
    }

    /// Everything read so far.
    var messages: [KafkaConsumerMessage] { received.messages.withLock { $0 } }

    /// The first message with this key, waiting for it up to `limit`.
    func message(key: String, within limit: Duration = .seconds(30)) async throws -> KafkaConsumerMessage {
        try await waitUntil("a message with key \(key)", within: limit) { self.first(key: key) != nil }
        return first(key: key)!
    }

    /// The message's value as JSON.
    func json(key: String, within limit: Duration = .seconds(30)) async throws -> JSONValue {
        try JSONValue.parse(try await message(key: key, within: limit).value ?? [])
    }

    private func first(key: String) -> KafkaConsumerMessage? {
        received.messages.withLock { $0.first { $0.key == Array(key.utf8) } }
    }

    func close() async {
        reading.withLock { $0?.cancel() }
        await consumer.close()
    }
}

extension EmulatorHarness {
    /// A reader of the emulator's `ORG_ID.runs` topic.
    func runsReader() throws -> TopicReader {
        try TopicReader(
            bootstrapServers: emulator.info.kafkaBootstrapServers,
            topic: emulator.info.runsTopic,
            partitions: emulator.info.partitions
        )
    }

    /// A reader of the emulator's `ORG_ID.change.log` topic.
    func changeLogReader() throws -> TopicReader {
        try TopicReader(
            bootstrapServers: emulator.info.kafkaBootstrapServers,
            topic: emulator.info.changeLogTopic,
            partitions: emulator.info.partitions
        )
    }
}
