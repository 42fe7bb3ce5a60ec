import CRdKafka

extension RDKafkaProducerClient {
    /// The partition count of every topic the brokers report, read on the blocking queue.
    func topicPartitionCounts(timeout: Duration) async throws -> [String: Int] {
        let handle = handle
        return try await blocking.run { try handle.topicPartitionCounts(timeout: timeout) }
    }

    /// Creates topics (an existing one is no error), waiting on the blocking queue.
    func createTopics(_ names: [String], partitions: Int, timeout: Duration) async throws {
        let handle = handle
        try await blocking.run { try handle.createTopics(names, partitions: partitions, timeout: timeout) }
    }
}

extension RDKafkaHandle {
    /// The partition count of every topic in the cluster's metadata; blocks for up to `timeout`.
    func topicPartitionCounts(timeout: Duration) throws -> [String: Int] {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let result = rd_kafka_metadata(pointer, 1, nil, &metadata, Int32(clamping: timeout.wholeMilliseconds))
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            throw RDKafkaError.kafkaError(result, context: "reading the cluster's topics")
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        var counts: [String: Int] = [:]
        for index in 0..<Int(metadata.pointee.topic_cnt) {
            let topic = metadata.pointee.topics[index]
            guard topic.err == RD_KAFKA_RESP_ERR_NO_ERROR, let name = topic.topic else { continue }
            counts[String(cString: name)] = Int(topic.partition_cnt)
        }
        return counts
    }

    /// Creates topics with the brokers' default replication through the admin API; a topic
    /// that already exists is no error. Blocks until the brokers answer or `timeout` passes.
    func createTopics(_ names: [String], partitions: Int, timeout: Duration) throws {
        var errorText = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { for topic in newTopics { rd_kafka_NewTopic_destroy(topic) } }
        for name in names {
            guard let topic = rd_kafka_NewTopic_new(name, Int32(partitions), -1, &errorText, errorText.count) else {
                throw KafkaError(
                    code: .invalidConfiguration,
                    reason: "topic \(name): \(String(errorBuffer: errorText))"
                )
            }
            newTopics.append(topic)
        }
        guard let queue = rd_kafka_queue_new(pointer) else {
            throw KafkaError(code: .clientCreation, reason: "librdkafka could not create an admin result queue")
        }
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(pointer, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        _ = rd_kafka_AdminOptions_set_request_timeout(
            options,
            Int32(clamping: timeout.wholeMilliseconds),
            &errorText,
            errorText.count
        )
        newTopics.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_CreateTopics(pointer, buffer.baseAddress, buffer.count, options, queue)
        }
        guard let event = rd_kafka_queue_poll(queue, Int32(clamping: timeout.wholeMilliseconds) + 1000) else {
            throw KafkaError(code: .transport, reason: "no answer to CreateTopics within \(timeout)", isRetriable: true)
        }
        defer { rd_kafka_event_destroy(event) }
        let eventError = rd_kafka_event_error(event)
        guard eventError == RD_KAFKA_RESP_ERR_NO_ERROR else {
            let reason = rd_kafka_event_error_string(event).map { String(cString: $0) } ?? ""
            throw RDKafkaError.kafkaError(
                eventError,
                context: "creating topics \(names.joined(separator: ", ")): \(reason)"
            )
        }
        guard let result = rd_kafka_event_CreateTopics_result(event) else { return }
        var count = 0
        guard let topics = rd_kafka_CreateTopics_result_topics(result, &count) else { return }
        for index in 0..<count {
            let topicError = rd_kafka_topic_result_error(topics[index])
            guard topicError != RD_KAFKA_RESP_ERR_NO_ERROR, topicError != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS else {
                continue
            }
            let name = rd_kafka_topic_result_name(topics[index]).map { String(cString: $0) } ?? "?"
            let reason = rd_kafka_topic_result_error_string(topics[index]).map { String(cString: $0) } ?? ""
            throw RDKafkaError.kafkaError(topicError, context: "creating topic \(name): \(reason)")
        }
    }
}
