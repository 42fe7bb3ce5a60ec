package import KafkaProtocol
package import NIOCore

/// The partitions a request names, per topic, in request order.
package typealias KafkaTopicPartitions = [(topic: String, partitions: [Int32])]

/// Fetch v0–v11: the long-poll parameters, the topics, and whether an answer carries data.
package enum FetchMessages {
    package struct Request {
        package var maxWaitMs: Int32
        package var minBytes: Int32
        package var topics: KafkaTopicPartitions
    }

    /// Byte offset of MaxWaitMs within the body (after ReplicaId).
    static let maxWaitOffset = 4

    package static func parse(_ request: KafkaRequest) throws(KafkaWireError) -> Request {
        var reader = request.body
        let version = request.apiVersion
        _ = try reader.kafkaInt32()  // replica id
        let maxWait = try reader.kafkaInt32()
        let minBytes = try reader.kafkaInt32()
        if version >= 3 { _ = try reader.kafkaInt32() }  // max bytes
        if version >= 4 { _ = try reader.kafkaInt8() }  // isolation level
        if version >= 7 {
            _ = try reader.kafkaInt32()  // session id
            _ = try reader.kafkaInt32()  // session epoch
        }
        var topics: KafkaTopicPartitions = []
        for _ in 0..<(try reader.kafkaArrayCount(minimumElementSize: 6) ?? 0) {
            let name = try reader.kafkaString()
            var partitions: [Int32] = []
            for _ in 0..<(try reader.kafkaArrayCount(minimumElementSize: 16) ?? 0) {
                partitions.append(try reader.kafkaInt32())
                if version >= 9 { _ = try reader.kafkaInt32() }  // current leader epoch
                _ = try reader.kafkaInt64()  // fetch offset
                if version >= 5 { _ = try reader.kafkaInt64() }  // log start offset
                _ = try reader.kafkaInt32()  // partition max bytes
            }
            topics.append((name, partitions))
        }
        return Request(maxWaitMs: maxWait, minBytes: minBytes, topics: topics)
    }

    /// The request frame with MaxWaitMs set to `maxWaitMs`, everything else byte for byte.
    package static func withMaxWait(_ request: KafkaRequest, _ maxWaitMs: Int32) -> ByteBuffer {
        var frame = request.frame
        let headerLength = request.frame.readableBytes - request.body.readableBytes
        frame.setInteger(maxWaitMs, at: frame.readerIndex + headerLength + maxWaitOffset)
        return frame
    }

    /// What a Fetch answer holds: record bytes in all, and whether any error is set.
    package static func summary(
        _ response: KafkaResponse,
        version: Int16
    ) throws(KafkaWireError) -> (
        recordBytes: Int, hasError: Bool
    ) {
        var reader = response.body
        var hasError = false
        if version >= 1 { _ = try reader.kafkaInt32() }
        if version >= 7 {
            hasError = try reader.kafkaInt16() != 0
            _ = try reader.kafkaInt32()
        }
        var bytes = 0
        for _ in 0..<(try reader.kafkaArrayCount(minimumElementSize: 6) ?? 0) {
            _ = try reader.kafkaString()
            for _ in 0..<(try reader.kafkaArrayCount(minimumElementSize: 18) ?? 0) {
                _ = try reader.kafkaInt32()
                if try reader.kafkaInt16() != 0 { hasError = true }
                _ = try reader.kafkaInt64()
                if version >= 4 { _ = try reader.kafkaInt64() }
                if version >= 5 { _ = try reader.kafkaInt64() }
                if version >= 4 {
                    let aborted = try reader.kafkaArrayCount(minimumElementSize: 16) ?? 0
                    guard reader.readSlice(length: aborted * 16) != nil else {
                        throw KafkaWireError("truncated aborted transactions")
                    }
                }
                if version >= 11 { _ = try reader.kafkaInt32() }
                bytes += try reader.kafkaNullableBytes()?.readableBytes ?? 0
            }
        }
        return (bytes, hasError)
    }

    /// An answer refusing every partition of `topics` with `error`.
    package static func refusal(version: Int16, topics: KafkaTopicPartitions, error: Int16) -> ByteBuffer {
        var body = ByteBuffer()
        if version >= 1 { body.writeInteger(Int32(0)) }
        if version >= 7 {
            body.writeInteger(Int16(0))
            body.writeInteger(Int32(0))
        }
        writeTopics(topics, to: &body) { body, partition in
            body.writeInteger(partition)
            body.writeInteger(error)
            body.writeInteger(Int64(-1))  // high watermark
            if version >= 4 { body.writeInteger(Int64(-1)) }  // last stable offset
            if version >= 5 { body.writeInteger(Int64(-1)) }  // log start offset
            if version >= 4 { body.writeInteger(Int32(-1)) }  // aborted transactions: null
            if version >= 11 { body.writeInteger(Int32(-1)) }  // preferred read replica
            body.writeInteger(Int32(0))  // no records
        }
        return body
    }
}

/// Writes a topic array whose partitions `writePartition` encodes.
func writeTopics(
    _ topics: KafkaTopicPartitions,
    to body: inout ByteBuffer,
    writePartition: (inout ByteBuffer, Int32) -> Void
) {
    body.writeInteger(Int32(topics.count))
    for (topic, partitions) in topics {
        body.writeKafkaString(topic)
        body.writeInteger(Int32(partitions.count))
        for partition in partitions { writePartition(&body, partition) }
    }
}

/// Produce v0–v7.
package enum ProduceMessages {
    /// The acks setting (0 means the client expects no answer) and the partitions written.
    package static func parse(
        _ request: KafkaRequest
    ) throws(KafkaWireError) -> (
        acks: Int16, topics: KafkaTopicPartitions
    ) {
        var reader = request.body
        if request.apiVersion >= 3 { _ = try reader.kafkaNullableString() }  // transactional id
        let acks = try reader.kafkaInt16()
        _ = try reader.kafkaInt32()  // timeout
        var topics: KafkaTopicPartitions = []
        for _ in 0..<(try reader.kafkaArrayCount(minimumElementSize: 6) ?? 0) {
            let name = try reader.kafkaString()
            var partitions: [Int32] = []
            for _ in 0..<(try reader.kafkaArrayCount(minimumElementSize: 8) ?? 0) {
                partitions.append(try reader.kafkaInt32())
                _ = try reader.kafkaNullableBytes()
            }
            topics.append((name, partitions))
        }
        return (acks, topics)
    }

    /// An answer refusing every partition with `error`.
    package static func refusal(version: Int16, topics: KafkaTopicPartitions, error: Int16) -> ByteBuffer {
        var body = ByteBuffer()
        writeTopics(topics, to: &body) { body, partition in
            body.writeInteger(partition)
            body.writeInteger(error)
            body.writeInteger(Int64(-1))  // base offset
            if version >= 2 { body.writeInteger(Int64(-1)) }  // log append time
            if version >= 5 { body.writeInteger(Int64(-1)) }  // log start offset
        }
        if version >= 1 { body.writeInteger(Int32(0)) }
        return body
    }
}

/// ListOffsets v0–v5.
package enum ListOffsetsMessages {
    package static func topics(_ request: KafkaRequest) throws(KafkaWireError) -> KafkaTopicPartitions {
        var reader = request.body
        let version = request.apiVersion
        _ = try reader.kafkaInt32()  // replica id
        if version >= 2 { _ = try reader.kafkaInt8() }  // isolation level
        var topics: KafkaTopicPartitions = []
        for _ in 0..<(try reader.kafkaArrayCount(minimumElementSize: 6) ?? 0) {
            let name = try reader.kafkaString()
            var partitions: [Int32] = []
            for _ in 0..<(try reader.kafkaArrayCount(minimumElementSize: 12) ?? 0) {
                partitions.append(try reader.kafkaInt32())
                if version >= 4 { _ = try reader.kafkaInt32() }  // current leader epoch
                _ = try reader.kafkaInt64()  // timestamp
                if version == 0 { _ = try reader.kafkaInt32() }  // max offsets
            }
            topics.append((name, partitions))
        }
        return topics
    }

    package static func refusal(version: Int16, topics: KafkaTopicPartitions, error: Int16) -> ByteBuffer {
        var body = ByteBuffer()
        if version >= 2 { body.writeInteger(Int32(0)) }
        writeTopics(topics, to: &body) { body, partition in
            body.writeInteger(partition)
            body.writeInteger(error)
            if version == 0 {
                body.writeInteger(Int32(0))  // no old-style offsets
            } else {
                body.writeInteger(Int64(-1))  // timestamp
                body.writeInteger(Int64(-1))  // offset
                if version >= 4 { body.writeInteger(Int32(-1)) }  // leader epoch
            }
        }
        return body
    }
}
