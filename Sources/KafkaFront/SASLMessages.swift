package import KafkaProtocol
package import NIOCore

/// SaslHandshake and SaslAuthenticate, every version: the requests the front answers itself.
package enum SASLMessages {
    /// The mechanism a SaslHandshake asks for.
    package static func handshakeMechanism(_ request: KafkaRequest) throws(KafkaWireError) -> String {
        try decode(request, KafkaSchemas.saslHandshakeRequest).string("Mechanism") ?? ""
    }

    /// A SaslHandshake answer: `error` (none, UNSUPPORTED_SASL_MECHANISM or
    /// ILLEGAL_SASL_STATE) and the mechanisms enabled.
    package static func handshakeResponse(
        to request: KafkaRequest,
        error: KafkaErrorCode,
        mechanisms: [String]
    ) throws(KafkaWireError) -> ByteBuffer {
        let body: KafkaStruct = [
            "ErrorCode": .int(Int64(error.rawValue)), "Mechanisms": .array(mechanisms.map(KafkaValue.string)),
        ]
        return request.response(
            try KafkaCodec.encode(body, as: KafkaSchemas.saslHandshakeResponse, version: request.apiVersion)
        )
    }

    /// The SASL bytes a SaslAuthenticate carries.
    package static func authenticateBytes(_ request: KafkaRequest) throws(KafkaWireError) -> [UInt8] {
        let body = try decode(request, KafkaSchemas.saslAuthenticateRequest)
        return body["AuthBytes"].bytes.map { Array($0.readableBytesView) } ?? []
    }

    /// A SaslAuthenticate answer: none with the server's SASL bytes, or
    /// SASL_AUTHENTICATION_FAILED with Kafka's message.
    package static func authenticateResponse(
        to request: KafkaRequest,
        error: KafkaErrorCode,
        message: String?,
        bytes: [UInt8]
    ) throws(KafkaWireError) -> ByteBuffer {
        let body: KafkaStruct = [
            "ErrorCode": .int(Int64(error.rawValue)), "ErrorMessage": message.map(KafkaValue.string) ?? .null,
            "AuthBytes": .bytes(ByteBuffer(bytes: bytes)),
        ]
        return request.response(
            try KafkaCodec.encode(body, as: KafkaSchemas.saslAuthenticateResponse, version: request.apiVersion)
        )
    }

    private static func decode(
        _ request: KafkaRequest,
        _ schema: KafkaMessageSchema
    ) throws(KafkaWireError) -> KafkaStruct {
        var body = request.body
        return try KafkaCodec.decode(schema, version: request.apiVersion, from: &body)
    }
}
