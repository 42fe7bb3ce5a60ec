package import NIOCore

/// The Kafka API keys the broker serves by name, and what the schemas say of any key.
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

    /// The API's name in Kafka's definitions (`Produce`, …), or `ApiKey(N)` for one not served.
    package static func name(_ key: Int16) -> String {
        KafkaSchemas.requests[key].map { String($0.name.dropLast("Request".count)) } ?? "ApiKey(\(key))"
    }

    /// Whether `version` of `key` uses flexible (tagged-field) encoding: request header v2,
    /// response header v1. False for an API not served, whose header is read only to refuse it.
    package static func isFlexible(_ key: Int16, _ version: Int16) -> Bool {
        KafkaSchemas.requests[key]?.flexible.contains(version) ?? false
    }
}

/// One request frame as a client sent it: the header's fields and the body after them.
package struct KafkaRequest: Sendable {
    package let apiKey: Int16
    package let apiVersion: Int16
    package let correlationID: Int32
    package let clientID: String?
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
}
