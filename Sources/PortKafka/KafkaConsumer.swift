public import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A topic and partition, as assigned to a consumer.
public struct KafkaTopicPartition: Sendable, Hashable, Comparable {
    /// The topic's name.
    public var topic: String
    /// The partition number.
    public var partition: Int32

    /// Creates a topic-partition pair.
    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    /// Orders by topic, then by partition.
    public static func < (lhs: KafkaTopicPartition, rhs: KafkaTopicPartition) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }
}

/// A member of a balanced consumer group with manual offset commits.
///
/// Read messages through `messages`, an `AsyncSequence` whose reads run on the consumer's
/// own thread (never on Swift's cooperative pool); librdkafka's fetch queue is the back
/// pressure. Commit a message with `commit(_:)` once it is fully handled: that stores
/// `offset + 1`, so a restarted member resumes right after it. Auto-commit is always off.
public final class KafkaConsumer: Sendable {
    private let client: RDKafkaConsumerClient

    private init(client: RDKafkaConsumerClient) {
        self.client = client
    }

    /// Creates a consumer; it joins its group when it subscribes and reads. `onError` hears
    /// the error events librdkafka reports while reading and recovers from (a refused group,
    /// a broker down), which are otherwise only logged.
    public static func make(
        configuration: KafkaConsumerConfiguration,
        logger: Logger = Logger(label: "kafka.consumer"),
        onError: (@Sendable (KafkaError) -> Void)? = nil
    ) throws -> KafkaConsumer {
        KafkaConsumer(
            client: try RDKafkaConsumerClient(
                properties: configuration.librdkafkaProperties,
                logger: logger,
                onError: onError
            )
        )
    }

    /// Subscribes to the given topics, replacing any earlier subscription.
    public func subscribe(topics: [String]) throws {
        try client.subscribe(topics: topics)
    }

    /// Reads these partitions from their first retained message, outside any group: no
    /// join, no rebalance (for tools and tests that read a whole topic). Do not also subscribe.
    public func assign(_ partitions: [KafkaTopicPartition]) throws {
        try client.assign(partitions)
    }

    /// The messages of the subscribed topics, in order within each partition.
    ///
    /// The sequence ends when the consumer is closed or the reading task is cancelled; it
    /// throws only for fatal errors. A message with a null value is delivered with `value == nil`.
    public var messages: KafkaConsumerMessages { KafkaConsumerMessages(client: client) }

    /// Commits `message.offset + 1` for the message's partition and waits for the broker's answer.
    public func commit(_ message: KafkaConsumerMessage) async throws {
        try await client.commit(topic: message.topic, partition: message.partition, nextOffset: message.offset + 1)
    }

    /// Commits the next offset to read of each partition given, in one request, and waits
    /// for the broker's answer.
    public func commit(_ offsets: [KafkaTopicPartition: Int64]) async throws {
        try await client.commit(offsets)
    }

    /// Commits `nextOffset` (the offset of the next message to read) for one partition.
    public func commit(topic: String, partition: Int32, nextOffset: Int64) async throws {
        try await client.commit(topic: topic, partition: partition, nextOffset: nextOffset)
    }

    /// The offsets this consumer's group has committed for `partitions` of `topic` (the
    /// next offset the group will read), asked of the group coordinator without joining the
    /// group; a partition with no commit is left out. Throws when the group or the topic may
    /// not be read (Kafka's GROUP_ or TOPIC_AUTHORIZATION_FAILED).
    public func committedOffsets(topic: String, partitions: Int32, timeout: Duration) async throws -> [Int32: Int64] {
        try await client.committed(topic: topic, partitions: partitions, timeout: timeout)
    }

    /// The partitions currently assigned to this member.
    public func assignment() throws -> [KafkaTopicPartition] {
        try client.assignment()
    }

    /// Leaves the group; reading stops and the sequence ends. Call it before dropping the
    /// consumer: releasing the last reference frees librdkafka's handle without leaving the
    /// group (the coordinator then waits out the member's session timeout).
    public func close() async {
        await client.close()
    }
}

/// The messages of a `KafkaConsumer` as an `AsyncSequence`.
public struct KafkaConsumerMessages: AsyncSequence, Sendable {
    /// Each element is one message.
    public typealias Element = KafkaConsumerMessage

    let client: RDKafkaConsumerClient

    /// Creates the iterator that reads messages.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(client: client)
    }

    /// Reads messages from librdkafka, taking every message already fetched in one hop to
    /// the consumer's thread (up to 256) and handing them out one by one.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let client: RDKafkaConsumerClient
        private var buffered: [KafkaConsumerMessage] = []
        private var nextIndex = 0

        init(client: RDKafkaConsumerClient) {
            self.client = client
        }

        /// The next message, or `nil` once the consumer is closed or the task is cancelled.
        public mutating func next() async throws -> KafkaConsumerMessage? {
            if nextIndex == buffered.count {
                buffered = try await client.nextMessages(upTo: 256)
                nextIndex = 0
                if buffered.isEmpty { return nil }
            }
            defer { nextIndex += 1 }
            return buffered[nextIndex]
        }
    }
}
