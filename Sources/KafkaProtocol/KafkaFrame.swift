package import NIOCore

/// A Kafka API key and the names the front uses for it.
package enum KafkaAPI {
    package static let produce: Int16 = 0
    package static let fetch: Int16 = 1
    package static let listOffsets: Int16 = 2
    package static let metadata: Int16 = 3
    package static let offsetCommit: Int16 = 8
    package static let offsetFetch: Int16 = 9
    package static let findCoordinator: Int16 = 10
    package static let joinGroup: Int16 = 11
    package static let heartbeat: Int16 = 12
    package static let leaveGroup: Int16 = 13
    package static let syncGroup: Int16 = 14
    package static let describeGroups: Int16 = 15
    package static let listGroups: Int16 = 16
    package static let saslHandshake: Int16 = 17
    package static let apiVersions: Int16 = 18
    package static let initProducerID: Int16 = 22
    package static let offsetForLeaderEpoch: Int16 = 23
    package static let addPartitionsToTxn: Int16 = 24
    package static let addOffsetsToTxn: Int16 = 25
    package static let endTxn: Int16 = 26
    package static let txnOffsetCommit: Int16 = 28
    package static let saslAuthenticate: Int16 = 36

    /// The first flexible version of each API the front knows (request header v2,
    /// response header v1), from Apache Kafka's message definitions.
    package static let firstFlexibleVersion: [Int16: Int16] = [
        0: 9, 1: 12, 2: 6, 3: 9, 8: 8, 9: 6, 10: 3, 11: 6, 12: 4, 13: 4, 14: 4, 15: 5, 16: 3, 17: .max, 18: 3,
        19: 5, 20: 4, 21: 2, 22: 2, 23: 4, 24: 3, 25: 3, 26: 3, 27: 1, 28: 3, 29: 2, 30: 2, 31: 2, 32: 4, 33: 2,
        34: 2, 35: 2, 36: 2, 37: 2, 38: 2, 39: 2, 40: 2, 41: 2, 42: 2, 43: 2, 44: 1, 45: 0, 46: 0, 47: 0, 48: 1,
        49: 1, 50: 0, 51: 0, 56: 0, 57: 0, 60: 0, 61: 0, 65: 0, 66: 0, 67: 0, 68: 0,
    ]

    package static let names: [Int16: String] = [
        0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata", 8: "OffsetCommit", 9: "OffsetFetch",
        10: "FindCoordinator", 11: "JoinGroup", 12: "Heartbeat", 13: "LeaveGroup", 14: "SyncGroup",
        15: "DescribeGroups", 16: "ListGroups", 17: "SaslHandshake", 18: "ApiVersions", 19: "CreateTopics",
        22: "InitProducerId", 24: "AddPartitionsToTxn", 25: "AddOffsetsToTxn", 26: "EndTxn", 28: "TxnOffsetCommit",
        36: "SaslAuthenticate",
    ]

    package static func name(_ key: Int16) -> String {
        names[key] ?? KafkaSchemas.requests[key].map { String($0.name.dropLast("Request".count)) } ?? "ApiKey(\(key))"
    }

    /// Whether `version` of `key` uses flexible (tagged-field) encoding.
    package static func isFlexible(_ key: Int16, _ version: Int16) -> Bool {
        guard let first = firstFlexibleVersion[key] else { return false }
        return version >= first
    }
}

/// One request frame as a client sent it: the header's fields, and the whole frame so that
/// it can be forwarded byte for byte.
package struct KafkaRequest: Sendable {
    package let apiKey: Int16
    package let apiVersion: Int16
    package let correlationID: Int32
    package let clientID: String?
    /// The frame without its length prefix, header included.
    package let frame: ByteBuffer
    /// The request body: the frame after its header.
    package let body: ByteBuffer

    /// Parses the header of `frame` (request header v1, or v2 with tagged fields for a
    /// flexible version).
    package init(frame: ByteBuffer) throws(KafkaWireError) {
        var reader = frame
        apiKey = try reader.kafkaInt16()
        apiVersion = try reader.kafkaInt16()
        correlationID = try reader.kafkaInt32()
        guard apiKey >= 0, apiVersion >= 0 else {
            throw KafkaWireError("request header with api key \(apiKey) version \(apiVersion)")
        }
        clientID = try reader.kafkaNullableString()
        if KafkaAPI.isFlexible(apiKey, apiVersion) { try reader.kafkaSkipTaggedFields() }
        self.frame = frame
        body = reader
    }

    package var apiName: String { KafkaAPI.name(apiKey) }

    /// A request frame (no length prefix): header v1, or v2 with empty tagged fields for a
    /// flexible version, then what `body` writes.
    package static func frame(
        apiKey: Int16,
        version: Int16,
        correlationID: Int32,
        clientID: String = "kafka-front",
        body: (inout ByteBuffer) -> Void = { _ in }
    ) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(apiKey)
        buffer.writeInteger(version)
        buffer.writeInteger(correlationID)
        buffer.writeKafkaString(clientID)
        if KafkaAPI.isFlexible(apiKey, version) { buffer.writeKafkaEmptyTaggedFields() }
        body(&buffer)
        return buffer
    }

    /// A response frame to this request (no length prefix): the response header, then
    /// `body`. ApiVersions always answers with header v0, as Kafka does.
    package func response(_ body: ByteBuffer) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(body.readableBytes + 5)
        buffer.writeInteger(correlationID)
        if apiKey != KafkaAPI.apiVersions, KafkaAPI.isFlexible(apiKey, apiVersion) {
            buffer.writeKafkaEmptyTaggedFields()
        }
        var body = body
        buffer.writeBuffer(&body)
        return buffer
    }

    /// This request's frame with the body replaced (the header kept byte for byte).
    package func replacingBody(_ newBody: ByteBuffer) -> ByteBuffer {
        var buffer = frame.getSlice(at: frame.readerIndex, length: frame.readableBytes - body.readableBytes)!
        var newBody = newBody
        buffer.writeBuffer(&newBody)
        return buffer
    }
}

/// A response frame from a broker: its correlation id and what follows the header.
package struct KafkaResponse: Sendable {
    package let correlationID: Int32
    /// The response body after the header (after the tagged fields, for header v1).
    package var body: ByteBuffer

    package init(frame: ByteBuffer, flexibleHeader: Bool) throws(KafkaWireError) {
        var reader = frame
        correlationID = try reader.kafkaInt32()
        if flexibleHeader { try reader.kafkaSkipTaggedFields() }
        body = reader
    }
}
