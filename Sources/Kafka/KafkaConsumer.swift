import CRdKafka
public import Logging
import Synchronization

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

    /// Creates a consumer; it joins its group when it subscribes and reads.
    public static func make(
        configuration: KafkaConsumerConfiguration,
        logger: Logger = Logger(label: "kafka.consumer")
    ) throws -> KafkaConsumer {
        KafkaConsumer(client: try RDKafkaConsumerClient(properties: configuration.librdkafkaProperties, logger: logger))
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

    /// Commits `nextOffset` (the offset of the next message to read) for one partition.
    public func commit(topic: String, partition: Int32, nextOffset: Int64) async throws {
        try await client.commit(topic: topic, partition: partition, nextOffset: nextOffset)
    }

    /// The offsets this consumer's group has committed for `partitions` of `topic` (the
    /// next offset the group will read), asked of the group coordinator without joining the
    /// group; a partition with no commit is left out.
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

/// The librdkafka side of a consumer: the handle, its reading thread and its lifecycle.
final class RDKafkaConsumerClient: Sendable {
    private let handle: RDKafkaHandle
    private let logger: Logger
    private let lifecycle = RDKafkaLifecycle()
    private let pollQueue = RDKafkaBlockingQueue(label: "kafka.consumer.poll")
    private let commitQueue = RDKafkaBlockingQueue(label: "kafka.consumer.commit")

    init(properties: [String: String], logger: Logger) throws {
        self.logger = logger
        handle = try RDKafkaFactory.makeHandle(
            type: RD_KAFKA_CONSUMER,
            properties: properties,
            logger: logger
        )
        rd_kafka_poll_set_consumer(handle.pointer)
    }

    func assign(_ partitions: [KafkaTopicPartition]) throws {
        guard try lifecycle.whileRunning({ try assignNow(partitions) }) != nil else {
            throw KafkaError.closed("the consumer")
        }
    }

    private func assignNow(_ partitions: [KafkaTopicPartition]) throws {
        let list = rd_kafka_topic_partition_list_new(Int32(partitions.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for partition in partitions {
            rd_kafka_topic_partition_list_add(list, partition.topic, partition.partition)?.pointee.offset =
                Int64(RD_KAFKA_OFFSET_BEGINNING)
        }
        let error = rd_kafka_assign(handle.pointer, list)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            let failure = KafkaError.fromResponse(error, context: "assigning \(partitions) failed")
            throw KafkaError(code: .subscriptionFailed, reason: failure.reason, librdkafkaCode: failure.librdkafkaCode)
        }
    }

    func subscribe(topics: [String]) throws {
        guard try lifecycle.whileRunning({ try subscribeNow(topics: topics) }) != nil else {
            throw KafkaError.closed("the consumer")
        }
    }

    private func subscribeNow(topics: [String]) throws {
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics {
            rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA)
        }
        let error = rd_kafka_subscribe(handle.pointer, list)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            let failure = KafkaError.fromResponse(error, context: "subscribing to \(topics) failed")
            throw KafkaError(code: .subscriptionFailed, reason: failure.reason, librdkafkaCode: failure.librdkafkaCode)
        }
    }

    /// Waits for at least one message, then adds those already fetched, up to `limit`;
    /// returns an empty array once the consumer is closed or the task is cancelled.
    func nextMessages(upTo limit: Int) async throws -> [KafkaConsumerMessage] {
        let cancelled = StopFlag()
        return try await withTaskCancellationHandler {
            try await pollQueue.run { [self] in
                guard let first = try poll(waitingFor: .milliseconds(100), orUntil: cancelled) else { return [] }
                var messages = [first]
                while messages.count < limit, let next = try poll(waitingFor: .zero, orUntil: cancelled) {
                    messages.append(next)
                }
                return messages
            }
        } onCancel: {
            cancelled.set()
        }
    }

    /// Polls in slices of `slice` so that cancellation and closing are noticed quickly;
    /// with a zero slice it returns `nil` as soon as nothing is ready.
    private func poll(waitingFor slice: Duration, orUntil cancelled: StopFlag) throws -> KafkaConsumerMessage? {
        let timeout = Int32(slice.wholeMilliseconds)
        while true {
            guard lifecycle.isRunning, !cancelled.isSet else { return nil }
            guard let pointer = rd_kafka_consumer_poll(handle.pointer, timeout) else {
                if timeout == 0 { return nil }
                continue
            }
            defer { rd_kafka_message_destroy(pointer) }
            let error = pointer.pointee.err
            if error == RD_KAFKA_RESP_ERR_NO_ERROR {
                return KafkaConsumerMessage(copying: pointer)
            }
            if error == RD_KAFKA_RESP_ERR__PARTITION_EOF { continue }
            var reason = [CChar](repeating: 0, count: 512)
            let fatal = rd_kafka_fatal_error(handle.pointer, &reason, reason.count)
            if fatal != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError.fromResponse(fatal, context: String(errorBuffer: reason), fatal: true)
            }
            logger.warning(
                "consumer error event",
                metadata: ["error": "\(KafkaError.fromResponse(error, context: consumerErrorText(pointer)))"]
            )
        }
    }

    private func consumerErrorText(_ pointer: UnsafeMutablePointer<rd_kafka_message_t>) -> String {
        guard let text = rd_kafka_message_errstr(pointer) else { return "consumer error" }
        return String(cString: text)
    }

    func committed(topic: String, partitions: Int32, timeout: Duration) async throws -> [Int32: Int64] {
        guard lifecycle.isRunning else { throw KafkaError.closed("the consumer") }
        let handle = handle
        return try await commitQueue.run {
            let list = rd_kafka_topic_partition_list_new(partitions)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            for partition in 0..<partitions { rd_kafka_topic_partition_list_add(list, topic, partition) }
            let error = rd_kafka_committed(handle.pointer, list, Int32(clamping: timeout.wholeMilliseconds))
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError.fromResponse(error, context: "reading the committed offsets of \(topic)")
            }
            var offsets: [Int32: Int64] = [:]
            for index in 0..<Int(list!.pointee.cnt) {
                let element = list!.pointee.elems[index]
                if element.err == RD_KAFKA_RESP_ERR_NO_ERROR, element.offset >= 0 {
                    offsets[element.partition] = element.offset
                }
            }
            return offsets
        }
    }

    func commit(topic: String, partition: Int32, nextOffset: Int64) async throws {
        guard lifecycle.isRunning else { throw KafkaError.closed("the consumer") }
        let handle = handle
        try await commitQueue.run {
            let list = rd_kafka_topic_partition_list_new(1)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let element = rd_kafka_topic_partition_list_add(list, topic, partition)
            element?.pointee.offset = nextOffset
            let context = "committing offset \(nextOffset) of \(topic)[\(partition)] failed"
            let error = rd_kafka_commit(handle.pointer, list, 0)
            let partitionError = element?.pointee.err ?? RD_KAFKA_RESP_ERR_NO_ERROR
            for failure in [error, partitionError] where failure != RD_KAFKA_RESP_ERR_NO_ERROR {
                let detail = KafkaError.fromResponse(failure, context: context)
                throw KafkaError(
                    code: .commitFailed,
                    reason: detail.reason,
                    isRetriable: detail.isRetriable,
                    librdkafkaCode: detail.librdkafkaCode
                )
            }
        }
    }

    func assignment() throws -> [KafkaTopicPartition] {
        guard let assignment = try lifecycle.whileRunning({ try assignmentNow() }) else {
            throw KafkaError.closed("the consumer")
        }
        return assignment
    }

    private func assignmentNow() throws -> [KafkaTopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        let error = rd_kafka_assignment(handle.pointer, &list)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR, let list else {
            throw KafkaError.fromResponse(error, context: "reading the assignment failed")
        }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let elements = UnsafeBufferPointer(start: list.pointee.elems, count: Int(list.pointee.cnt))
        return elements.map { KafkaTopicPartition(topic: String(cString: $0.topic), partition: $0.partition) }.sorted()
    }

    /// Leaves the group on the poll queue, after any read in progress has returned and a
    /// commit in flight has finished. The handle itself is destroyed by its owner, once no
    /// call holds it.
    func close() async {
        guard lifecycle.beginClosing() else { return }
        _ = try? await pollQueue.run { [self] in
            commitQueue.runAndWait {}
            let error = rd_kafka_consumer_close(handle.pointer)
            if error != RD_KAFKA_RESP_ERR_NO_ERROR {
                logger.warning(
                    "leaving the consumer group failed",
                    metadata: ["error": "\(KafkaError.fromResponse(error))"]
                )
            }
            handle.silence()
            lifecycle.markClosed()
        }
    }
}

extension KafkaConsumerMessage {
    /// Copies topic, partition, offset, key, value and headers out of a librdkafka message.
    init(copying pointer: UnsafeMutablePointer<rd_kafka_message_t>) {
        let message = pointer.pointee
        let topic = message.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
        let value = message.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: message.len)) }
        let key = message.key.map { Array(UnsafeRawBufferPointer(start: $0, count: message.key_len)) }

        var headers: [KafkaHeader] = []
        var headerList: OpaquePointer?
        if rd_kafka_message_headers(pointer, &headerList) == RD_KAFKA_RESP_ERR_NO_ERROR, let headerList {
            var index = 0
            while true {
                var name: UnsafePointer<CChar>?
                var bytes: UnsafeRawPointer?
                var count = 0
                guard rd_kafka_header_get_all(headerList, index, &name, &bytes, &count) == RD_KAFKA_RESP_ERR_NO_ERROR
                else { break }
                headers.append(
                    KafkaHeader(
                        key: name.map { String(cString: $0) } ?? "",
                        value: bytes.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) }
                    )
                )
                index += 1
            }
        }

        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(pointer, &timestampType)
        self.init(
            topic: topic,
            partition: message.partition,
            offset: message.offset,
            key: key,
            value: value,
            headers: headers,
            timestampMilliseconds: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp
        )
    }
}
