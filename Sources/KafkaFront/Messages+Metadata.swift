package import KafkaProtocol
package import NIOCore

/// Where clients reach a broker: what Metadata and FindCoordinator answers carry.
package struct KafkaBrokerAddress: Sendable, Equatable {
    package let host: String
    package let port: Int32

    package init(host: String, port: Int32) {
        self.host = host
        self.port = port
    }
}

/// Metadata v0–v2: the topics a request names, and the answer with broker addresses
/// rewritten and topics the principal may not describe filtered out or refused.
package enum MetadataMessages {
    /// The topics a Metadata request names; nil asks for all topics (v0's empty array,
    /// v1+'s null array).
    package static func requestedTopics(_ request: KafkaRequest) throws(KafkaWireError) -> [String]? {
        var reader = request.body
        guard let count = try reader.kafkaArrayCount(minimumElementSize: 2) else { return nil }
        if count == 0, request.apiVersion == 0 { return nil }
        return try (0..<count).map { _ throws(KafkaWireError) in try reader.kafkaString() }
    }

    /// A Metadata request body naming `topics` (an empty list asks for none from v1 on).
    package static func requestBody(topics: [String]) -> ByteBuffer {
        var body = ByteBuffer()
        body.writeInteger(Int32(topics.count))
        for topic in topics { body.writeKafkaString(topic) }
        return body
    }

    struct Broker {
        var nodeID: Int32
        var address: KafkaBrokerAddress
        var rack: String?
    }

    struct Topic {
        var error: Int16
        var name: String
        var isInternal: Bool
        /// The partition array as the broker wrote it (count included).
        var partitions: ByteBuffer
    }

    /// Re-encodes a Metadata response: each broker's address becomes `addresses[nodeID]`
    /// (left alone when absent), only topics `keep` accepts stay, and each of `refused` is
    /// appended with `error` and no partitions.
    package static func rewriteResponse(
        _ response: KafkaResponse,
        version: Int16,
        addresses: [Int32: KafkaBrokerAddress],
        keep: (String) -> Bool,
        refused: [String],
        error: Int16
    ) throws(KafkaWireError) -> ByteBuffer {
        var reader = response.body
        guard let brokerCount = try reader.kafkaArrayCount(minimumElementSize: 10) else {
            throw KafkaWireError("a null broker array in a Metadata answer")
        }
        var brokers: [Broker] = []
        for _ in 0..<brokerCount {
            let nodeID = try reader.kafkaInt32()
            let host = try reader.kafkaString()
            let port = try reader.kafkaInt32()
            let rack = version >= 1 ? try reader.kafkaNullableString() : nil
            brokers.append(
                Broker(
                    nodeID: nodeID,
                    address: addresses[nodeID] ?? KafkaBrokerAddress(host: host, port: port),
                    rack: rack
                )
            )
        }
        let clusterID = version >= 2 ? try reader.kafkaNullableString() : nil
        let controllerID = version >= 1 ? try reader.kafkaInt32() : -1
        guard let topicCount = try reader.kafkaArrayCount(minimumElementSize: 8) else {
            throw KafkaWireError("a null topic array in a Metadata answer")
        }
        var topics: [Topic] = []
        for _ in 0..<topicCount {
            let error = try reader.kafkaInt16()
            let name = try reader.kafkaString()
            let isInternal = version >= 1 ? try reader.kafkaInt8() != 0 : false
            let start = reader.readerIndex
            guard let partitionCount = try reader.kafkaArrayCount(minimumElementSize: 18) else {
                throw KafkaWireError("a null partition array in a Metadata answer")
            }
            for _ in 0..<partitionCount {
                _ = try reader.kafkaInt16()
                _ = try reader.kafkaInt32()
                _ = try reader.kafkaInt32()
                for _ in 0..<2 {
                    let nodes = try reader.kafkaArrayCount(minimumElementSize: 4) ?? 0
                    guard reader.readSlice(length: nodes * 4) != nil else {
                        throw KafkaWireError("truncated node list")
                    }
                }
            }
            let partitions = response.body.getSlice(at: start, length: reader.readerIndex - start)!
            if keep(name) {
                topics.append(Topic(error: error, name: name, isInternal: isInternal, partitions: partitions))
            }
        }
        var empty = ByteBuffer()
        empty.writeInteger(Int32(0))
        topics += refused.map { Topic(error: error, name: $0, isInternal: false, partitions: empty) }

        var body = ByteBuffer()
        body.writeInteger(Int32(brokers.count))
        for broker in brokers {
            body.writeInteger(broker.nodeID)
            body.writeKafkaString(broker.address.host)
            body.writeInteger(broker.address.port)
            if version >= 1 { body.writeKafkaString(broker.rack) }
        }
        if version >= 2 { body.writeKafkaString(clusterID) }
        if version >= 1 { body.writeInteger(controllerID) }
        body.writeInteger(Int32(topics.count))
        for var topic in topics {
            body.writeInteger(topic.error)
            body.writeKafkaString(topic.name)
            if version >= 1 { body.writeInteger(Int8(topic.isInternal ? 1 : 0)) }
            body.writeBuffer(&topic.partitions)
        }
        return body
    }
}

/// FindCoordinator v0–v2.
package enum CoordinatorMessages {
    /// The key (group or transactional id) and key type (0 group, 1 transaction).
    package static func key(_ request: KafkaRequest) throws(KafkaWireError) -> (key: String, type: Int8) {
        var reader = request.body
        let key = try reader.kafkaString()
        let type = request.apiVersion >= 1 ? try reader.kafkaInt8() : 0
        return (key, type)
    }

    /// The answer with the coordinator's address replaced by `addresses[nodeID]`.
    package static func rewriteResponse(
        _ response: KafkaResponse,
        version: Int16,
        addresses: [Int32: KafkaBrokerAddress]
    ) throws(KafkaWireError) -> ByteBuffer {
        var reader = response.body
        let throttle = version >= 1 ? try reader.kafkaInt32() : 0
        let error = try reader.kafkaInt16()
        let message = version >= 1 ? try reader.kafkaNullableString() : nil
        let nodeID = try reader.kafkaInt32()
        let host = try reader.kafkaString()
        let port = try reader.kafkaInt32()
        let address = addresses[nodeID] ?? KafkaBrokerAddress(host: host, port: port)
        return body(
            version: version,
            throttle: throttle,
            error: error,
            message: message,
            nodeID: nodeID,
            address: address
        )
    }

    /// A refusal: `error` with no coordinator.
    package static func refusal(version: Int16, error: Int16, message: String) -> ByteBuffer {
        body(
            version: version,
            throttle: 0,
            error: error,
            message: message,
            nodeID: -1,
            address: KafkaBrokerAddress(host: "", port: -1)
        )
    }

    private static func body(
        version: Int16,
        throttle: Int32,
        error: Int16,
        message: String?,
        nodeID: Int32,
        address: KafkaBrokerAddress
    ) -> ByteBuffer {
        var body = ByteBuffer()
        if version >= 1 { body.writeInteger(throttle) }
        body.writeInteger(error)
        if version >= 1 { body.writeKafkaString(message) }
        body.writeInteger(nodeID)
        body.writeKafkaString(address.host)
        body.writeInteger(address.port)
        return body
    }
}
