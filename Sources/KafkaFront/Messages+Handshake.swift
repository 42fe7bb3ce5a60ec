package import KafkaProtocol
package import NIOCore

/// One row of an ApiVersions answer.
package struct KafkaAPIVersionRange: Sendable, Equatable {
    package let apiKey: Int16
    package var minVersion: Int16
    package var maxVersion: Int16

    package init(apiKey: Int16, minVersion: Int16, maxVersion: Int16) {
        self.apiKey = apiKey
        self.minVersion = minVersion
        self.maxVersion = maxVersion
    }
}

/// ApiVersions, SaslHandshake and SaslAuthenticate: the requests the front answers itself.
package enum HandshakeMessages {
    /// Kafka's UNSUPPORTED_VERSION.
    package static let unsupportedVersion: Int16 = 35

    /// Parses an ApiVersions response body of version 0 (what the front asks the mock).
    package static func parseAPIVersions(_ body: ByteBuffer) throws(KafkaWireError) -> [KafkaAPIVersionRange] {
        var reader = body
        let error = try reader.kafkaInt16()
        guard error == 0 else { throw KafkaWireError("ApiVersions answered error \(error)") }
        guard let count = try reader.kafkaArrayCount(minimumElementSize: 6) else { return [] }
        var ranges: [KafkaAPIVersionRange] = []
        for _ in 0..<count {
            ranges.append(
                KafkaAPIVersionRange(
                    apiKey: try reader.kafkaInt16(),
                    minVersion: try reader.kafkaInt16(),
                    maxVersion: try reader.kafkaInt16()
                )
            )
        }
        return ranges
    }

    /// An ApiVersions v0 request frame (no length prefix).
    package static func apiVersionsRequest(correlationID: Int32) -> ByteBuffer {
        KafkaRequest.frame(apiKey: KafkaAPI.apiVersions, version: 0, correlationID: correlationID)
    }

    /// The ApiVersions answer to `request`: `ranges` at the version asked, or, for a version
    /// above 3, UNSUPPORTED_VERSION in version 0's layout, as Kafka answers.
    package static func apiVersionsResponse(to request: KafkaRequest, ranges: [KafkaAPIVersionRange]) -> ByteBuffer {
        var body = ByteBuffer()
        let version = request.apiVersion
        if version > 3 {
            body.writeInteger(unsupportedVersion)
            body.writeInteger(Int32(ranges.count))
            for range in ranges { write(range, to: &body) }
            return request.response(body)
        }
        body.writeInteger(Int16(0))
        if version >= 3 {
            body.writeKafkaUnsignedVarint(UInt32(ranges.count + 1))
            for range in ranges {
                write(range, to: &body)
                body.writeKafkaEmptyTaggedFields()
            }
            body.writeInteger(Int32(0))
            body.writeKafkaEmptyTaggedFields()
        } else {
            body.writeInteger(Int32(ranges.count))
            for range in ranges { write(range, to: &body) }
            if version >= 1 { body.writeInteger(Int32(0)) }
        }
        return request.response(body)
    }

    private static func write(_ range: KafkaAPIVersionRange, to body: inout ByteBuffer) {
        body.writeInteger(range.apiKey)
        body.writeInteger(range.minVersion)
        body.writeInteger(range.maxVersion)
    }

    /// The mechanism a SaslHandshake asks for.
    package static func handshakeMechanism(_ request: KafkaRequest) throws(KafkaWireError) -> String {
        var reader = request.body
        return try reader.kafkaString()
    }

    /// A SaslHandshake answer: `error` (0, or 33 UNSUPPORTED_SASL_MECHANISM, or 34
    /// ILLEGAL_SASL_STATE) and the mechanisms enabled.
    package static func handshakeResponse(to request: KafkaRequest, error: Int16, mechanisms: [String]) -> ByteBuffer {
        var body = ByteBuffer()
        body.writeInteger(error)
        body.writeInteger(Int32(mechanisms.count))
        for mechanism in mechanisms { body.writeKafkaString(mechanism) }
        return request.response(body)
    }

    /// The SASL bytes a SaslAuthenticate carries (v0–v1 bytes, v2 compact bytes).
    package static func authenticateBytes(_ request: KafkaRequest) throws(KafkaWireError) -> [UInt8] {
        var reader = request.body
        let bytes = request.apiVersion >= 2 ? try reader.kafkaCompactNullableBytes() : try reader.kafkaNullableBytes()
        return bytes.map { Array($0.readableBytesView) } ?? []
    }

    /// A SaslAuthenticate answer: 0 with the server's SASL bytes, or 58
    /// SASL_AUTHENTICATION_FAILED with Kafka's message.
    package static func authenticateResponse(
        to request: KafkaRequest,
        error: Int16,
        message: String?,
        bytes: [UInt8]
    ) -> ByteBuffer {
        var body = ByteBuffer()
        body.writeInteger(error)
        let payload = ByteBuffer(bytes: bytes)
        if request.apiVersion >= 2 {
            body.writeKafkaCompactString(message)
            body.writeKafkaCompactBytes(payload)
        } else {
            body.writeKafkaString(message)
            body.writeKafkaBytes(payload)
        }
        if request.apiVersion >= 1 { body.writeInteger(Int64(0)) }
        if request.apiVersion >= 2 { body.writeKafkaEmptyTaggedFields() }
        return request.response(body)
    }
}
