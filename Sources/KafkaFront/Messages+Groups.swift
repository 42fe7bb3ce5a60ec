package import KafkaProtocol
package import NIOCore

/// The consumer-group APIs in the versions the mock serves (JoinGroup v0–v5, SyncGroup
/// v0–v3, Heartbeat v0–v3, LeaveGroup v0–v1, OffsetCommit v0–v7, OffsetFetch v0–v5): the
/// group a request names, the topics of offset requests, and refusals.
package enum GroupMessages {
    package static let apis: Set<Int16> = [
        KafkaAPI.joinGroup, KafkaAPI.syncGroup, KafkaAPI.heartbeat, KafkaAPI.leaveGroup, KafkaAPI.offsetCommit,
        KafkaAPI.offsetFetch,
    ]

    /// The group id: the first field of each of these requests.
    package static func groupID(_ request: KafkaRequest) throws(KafkaWireError) -> String {
        var reader = request.body
        return try reader.kafkaString()
    }

    /// The partitions an OffsetCommit or OffsetFetch names (nil: OffsetFetch of all).
    package static func topics(_ request: KafkaRequest) throws(KafkaWireError) -> KafkaTopicPartitions? {
        var reader = request.body
        let version = request.apiVersion
        _ = try reader.kafkaString()
        if request.apiKey == KafkaAPI.offsetFetch {
            guard let count = try reader.kafkaArrayCount(minimumElementSize: 6) else { return nil }
            var topics: KafkaTopicPartitions = []
            for _ in 0..<count {
                let name = try reader.kafkaString()
                let partitions = try (0..<(try reader.kafkaArrayCount(minimumElementSize: 4) ?? 0)).map {
                    _ throws(KafkaWireError) in try reader.kafkaInt32()
                }
                topics.append((name, partitions))
            }
            return topics
        }
        if version >= 1 {
            _ = try reader.kafkaInt32()  // generation
            _ = try reader.kafkaString()  // member id
        }
        if version >= 7 { _ = try reader.kafkaNullableString() }  // group instance id
        if (2...4).contains(version) { _ = try reader.kafkaInt64() }  // retention time
        var topics: KafkaTopicPartitions = []
        for _ in 0..<(try reader.kafkaArrayCount(minimumElementSize: 6) ?? 0) {
            let name = try reader.kafkaString()
            var partitions: [Int32] = []
            for _ in 0..<(try reader.kafkaArrayCount(minimumElementSize: 14) ?? 0) {
                partitions.append(try reader.kafkaInt32())
                _ = try reader.kafkaInt64()  // offset
                if version >= 6 { _ = try reader.kafkaInt32() }  // leader epoch
                if version == 1 { _ = try reader.kafkaInt64() }  // commit timestamp
                _ = try reader.kafkaNullableString()  // metadata
            }
            topics.append((name, partitions))
        }
        return topics
    }

    /// The answer refusing `request` with `error` (30 for the group, 29 for a topic);
    /// offset requests refuse each partition of `topics`.
    package static func refusal(_ request: KafkaRequest, error: Int16, topics: KafkaTopicPartitions) -> ByteBuffer {
        let version = request.apiVersion
        var body = ByteBuffer()
        switch request.apiKey {
        case KafkaAPI.joinGroup:
            if version >= 2 { body.writeInteger(Int32(0)) }
            body.writeInteger(error)
            body.writeInteger(Int32(-1))  // generation
            body.writeKafkaString("")  // protocol
            body.writeKafkaString("")  // leader
            body.writeKafkaString("")  // member id
            body.writeInteger(Int32(0))  // members
        case KafkaAPI.syncGroup:
            if version >= 1 { body.writeInteger(Int32(0)) }
            body.writeInteger(error)
            body.writeInteger(Int32(0))  // empty assignment
        case KafkaAPI.offsetCommit:
            if version >= 3 { body.writeInteger(Int32(0)) }
            writeTopics(topics, to: &body) { body, partition in
                body.writeInteger(partition)
                body.writeInteger(error)
            }
        case KafkaAPI.offsetFetch:
            if version >= 3 { body.writeInteger(Int32(0)) }
            // From v2 on a group error is answered once, at the top level.
            let perPartition = version < 2 || error != GroupMessages.groupAuthorizationFailed
            writeTopics(perPartition ? topics : [], to: &body) { body, partition in
                body.writeInteger(partition)
                body.writeInteger(Int64(-1))
                if version >= 5 { body.writeInteger(Int32(-1)) }
                body.writeKafkaString("")
                body.writeInteger(error)
            }
            if version >= 2 { body.writeInteger(perPartition ? 0 : error) }
        default:  // Heartbeat, LeaveGroup
            if version >= 1 { body.writeInteger(Int32(0)) }
            body.writeInteger(error)
        }
        return request.response(body)
    }

    package static let groupAuthorizationFailed: Int16 = 30
}
