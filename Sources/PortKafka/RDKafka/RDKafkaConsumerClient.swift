import CRdKafka
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The librdkafka side of a consumer: the handle, its reading thread and its lifecycle.
final class RDKafkaConsumerClient: Sendable {
    /// The consumer's handle.
    private let handle: RDKafkaHandle
    /// Where the consumer's error events go.
    private let logger: Logger
    /// Told of each non-fatal error event (they are only logged otherwise).
    private let onError: (@Sendable (KafkaError) -> Void)?
    /// Running, closing or closed; guards every call into the handle.
    private let lifecycle = RDKafkaLifecycle()
    /// Where reads wait, and where closing leaves the group once they have returned.
    private let pollQueue = RDKafkaBlockingQueue(label: "kafka.consumer.poll")
    /// Where commits and committed-offset reads wait for the group coordinator.
    private let commitQueue = RDKafkaBlockingQueue(label: "kafka.consumer.commit")

    /// Creates the consumer's handle and routes its events to the consumer queue.
    init(properties: [String: String], logger: Logger, onError: (@Sendable (KafkaError) -> Void)? = nil) throws {
        self.logger = logger
        self.onError = onError
        handle = try RDKafkaHandle.make(
            type: RD_KAFKA_CONSUMER,
            properties: properties,
            logger: logger
        )
        rd_kafka_poll_set_consumer(handle.pointer)
    }

    /// Reads these partitions from their first retained message, outside any group.
    func assign(_ partitions: [KafkaTopicPartition]) throws {
        guard try lifecycle.whileRunning({ try assignNow(partitions) }) != nil else {
            throw KafkaError.closed("the consumer")
        }
    }

    /// Assigns the partitions from their beginning; the caller holds the lifecycle.
    private func assignNow(_ partitions: [KafkaTopicPartition]) throws {
        let list = rd_kafka_topic_partition_list_new(Int32(partitions.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for partition in partitions {
            rd_kafka_topic_partition_list_add(list, partition.topic, partition.partition)?.pointee.offset =
                Int64(RD_KAFKA_OFFSET_BEGINNING)
        }
        let error = rd_kafka_assign(handle.pointer, list)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            let failure = RDKafkaError.kafkaError(error, context: "assigning \(partitions) failed")
            throw KafkaError(code: .subscriptionFailed, reason: failure.reason, librdkafkaCode: failure.librdkafkaCode)
        }
    }

    /// Subscribes to the given topics, replacing any earlier subscription.
    func subscribe(topics: [String]) throws {
        guard try lifecycle.whileRunning({ try subscribeNow(topics: topics) }) != nil else {
            throw KafkaError.closed("the consumer")
        }
    }

    /// Subscribes to the topics; the caller holds the lifecycle.
    private func subscribeNow(topics: [String]) throws {
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics {
            rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA)
        }
        let error = rd_kafka_subscribe(handle.pointer, list)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            let failure = RDKafkaError.kafkaError(error, context: "subscribing to \(topics) failed")
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
                return RDKafkaMessage.copy(pointer)
            }
            if error == RD_KAFKA_RESP_ERR__PARTITION_EOF { continue }
            var reason = [CChar](repeating: 0, count: 512)
            let fatal = rd_kafka_fatal_error(handle.pointer, &reason, reason.count)
            if fatal != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw RDKafkaError.kafkaError(fatal, context: String(errorBuffer: reason), fatal: true)
            }
            let event = RDKafkaError.kafkaError(error, context: consumerErrorText(pointer))
            onError?(event)
            logger.warning("consumer error event", metadata: ["error": "\(event)"])
        }
    }

    /// librdkafka's text for a consumer error event.
    private func consumerErrorText(_ pointer: UnsafeMutablePointer<rd_kafka_message_t>) -> String {
        guard let text = rd_kafka_message_errstr(pointer) else { return "consumer error" }
        return String(cString: text)
    }

    /// The group's committed offsets of `topic`'s partitions `0..<partitions`, asked of the
    /// group coordinator; a partition with no commit is left out.
    func committed(topic: String, partitions: Int32, timeout: Duration) async throws -> [Int32: Int64] {
        guard lifecycle.isRunning else { throw KafkaError.closed("the consumer") }
        let handle = handle
        return try await commitQueue.run {
            let list = rd_kafka_topic_partition_list_new(partitions)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            for partition in 0..<partitions { rd_kafka_topic_partition_list_add(list, topic, partition) }
            let error = rd_kafka_committed(handle.pointer, list, Int32(clamping: timeout.wholeMilliseconds))
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw RDKafkaError.kafkaError(error, context: "reading the committed offsets of \(topic)")
            }
            var offsets: [Int32: Int64] = [:]
            for index in 0..<Int(list!.pointee.cnt) {
                let element = list!.pointee.elems[index]
                // A refusal is not "no commit": the group (or topic) may not be read at all.
                if element.err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED
                    || element.err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED
                {
                    throw RDKafkaError.kafkaError(element.err, context: "reading the committed offsets of \(topic)")
                }
                if element.err == RD_KAFKA_RESP_ERR_NO_ERROR, element.offset >= 0 {
                    offsets[element.partition] = element.offset
                }
            }
            return offsets
        }
    }

    /// Commits `nextOffset` for one partition and waits for the coordinator's answer.
    func commit(topic: String, partition: Int32, nextOffset: Int64) async throws {
        try await commit([KafkaTopicPartition(topic: topic, partition: partition): nextOffset])
    }

    /// Commits the next offset of each partition in one request and waits for the answer.
    func commit(_ offsets: [KafkaTopicPartition: Int64]) async throws {
        guard lifecycle.isRunning else { throw KafkaError.closed("the consumer") }
        guard !offsets.isEmpty else { return }
        let handle = handle
        let sorted = offsets.sorted { $0.key < $1.key }
        try await commitQueue.run {
            let list = rd_kafka_topic_partition_list_new(Int32(sorted.count))
            defer { rd_kafka_topic_partition_list_destroy(list) }
            for (partition, nextOffset) in sorted {
                rd_kafka_topic_partition_list_add(list, partition.topic, partition.partition)?.pointee.offset =
                    nextOffset
            }
            let context =
                "committing "
                + sorted.map { "offset \($0.value) of \($0.key.topic)[\($0.key.partition)]" }.joined(separator: ", ")
                + " failed"
            var failures = [rd_kafka_commit(handle.pointer, list, 0)]
            for index in 0..<Int(list!.pointee.cnt) { failures.append(list!.pointee.elems[index].err) }
            for failure in failures where failure != RD_KAFKA_RESP_ERR_NO_ERROR {
                let detail = RDKafkaError.kafkaError(failure, context: context)
                throw KafkaError(
                    code: .commitFailed,
                    reason: detail.reason,
                    isRetriable: detail.isRetriable,
                    librdkafkaCode: detail.librdkafkaCode
                )
            }
        }
    }

    /// The partitions currently assigned to this member, sorted.
    func assignment() throws -> [KafkaTopicPartition] {
        guard let assignment = try lifecycle.whileRunning({ try assignmentNow() }) else {
            throw KafkaError.closed("the consumer")
        }
        return assignment
    }

    /// Reads the assignment; the caller holds the lifecycle.
    private func assignmentNow() throws -> [KafkaTopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        let error = rd_kafka_assignment(handle.pointer, &list)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR, let list else {
            throw RDKafkaError.kafkaError(error, context: "reading the assignment failed")
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
                    metadata: ["error": "\(RDKafkaError.kafkaError(error))"]
                )
            }
            handle.silence()
            lifecycle.markClosed()
        }
    }
}
