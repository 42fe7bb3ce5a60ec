import KafkaProtocol
import KafkaFront
import NIOCore
import Testing

/// The bytes the front writes where it answers or rewrites, read back field by field.
@Suite("Kafka messages the front answers or rewrites, byte for byte")
struct FrontMessagesTests {
    static func request(
        _ key: Int16,
        _ version: Int16,
        body: (inout ByteBuffer) -> Void = { _ in }
    ) throws -> KafkaRequest {
        try KafkaRequest(
            frame: KafkaRequest.frame(apiKey: key, version: version, correlationID: 77, clientID: "client", body: body)
        )
    }

    static let ranges = [
        KafkaAPIVersionRange(apiKey: 0, minVersion: 0, maxVersion: 7),
        KafkaAPIVersionRange(apiKey: 17, minVersion: 0, maxVersion: 1),
    ]

    @Test(
        "ApiVersions v0–v2 answer an int32 array; v3 a compact array with tagged fields; v4+ UNSUPPORTED_VERSION in v0's layout"
    )
    func apiVersions() throws {
        for version: Int16 in 0...4 {
            var answer = HandshakeMessages.apiVersionsResponse(to: try Self.request(18, version), ranges: Self.ranges)
            #expect(try answer.kafkaInt32() == 77, "correlation id, header v0 even for v3")
            let error = try answer.kafkaInt16()
            #expect(error == (version > 3 ? 35 : 0))
            let count = version == 3 ? Int(try answer.kafkaUnsignedVarint()) - 1 : Int(try answer.kafkaInt32())
            #expect(count == 2)
            for range in Self.ranges {
                #expect(try answer.kafkaInt16() == range.apiKey)
                #expect(try answer.kafkaInt16() == range.minVersion)
                #expect(try answer.kafkaInt16() == range.maxVersion)
                if version == 3 { try answer.kafkaSkipTaggedFields() }
            }
            if (1...3).contains(version) { #expect(try answer.kafkaInt32() == 0, "throttle") }
            if version == 3 { try answer.kafkaSkipTaggedFields() }
            #expect(answer.readableBytes == 0, "v\(version): \(answer.readableBytes) bytes left")
        }
    }

    @Test(
        "SaslAuthenticate: v0 and v1 use int16/int32 lengths, v2 compact ones, a header with tagged fields and a session lifetime"
    )
    func saslAuthenticate() throws {
        for version: Int16 in 0...2 {
            let request = try Self.request(36, version) { body in
                let token = ByteBuffer(string: "n,,n=user,r=abc")
                if version >= 2 {
                    body.writeKafkaCompactBytes(token)
                    body.writeKafkaEmptyTaggedFields()
                } else {
                    body.writeKafkaBytes(token)
                }
            }
            #expect(try HandshakeMessages.authenticateBytes(request) == Array("n,,n=user,r=abc".utf8))
            var answer = HandshakeMessages.authenticateResponse(to: request, error: 58, message: "no", bytes: [1, 2])
            #expect(try answer.kafkaInt32() == 77)
            if version >= 2 { try answer.kafkaSkipTaggedFields() }
            #expect(try answer.kafkaInt16() == 58)
            if version >= 2 {
                #expect(try answer.kafkaCompactNullableString() == "no")
                #expect(try answer.kafkaCompactNullableBytes().map { Array($0.readableBytesView) } == [1, 2])
            } else {
                #expect(try answer.kafkaNullableString() == "no")
                #expect(try answer.kafkaNullableBytes().map { Array($0.readableBytesView) } == [1, 2])
            }
            if version >= 1 { #expect(try answer.kafkaInt64() == 0, "session lifetime") }
            if version >= 2 { try answer.kafkaSkipTaggedFields() }
            #expect(answer.readableBytes == 0)
        }
    }

    @Test("FindCoordinator v0–v2: the coordinator's address becomes the front's; a refusal names no coordinator")
    func findCoordinator() throws {
        for version: Int16 in 0...2 {
            var body = ByteBuffer()
            if version >= 1 { body.writeInteger(Int32(0)) }
            body.writeInteger(Int16(0))
            if version >= 1 { body.writeKafkaString(nil) }
            body.writeInteger(Int32(1))
            body.writeKafkaString("127.0.0.1")
            body.writeInteger(Int32(40000))
            var frame = ByteBuffer()
            frame.writeInteger(Int32(77))
            frame.writeBuffer(&body)
            var rewritten = try CoordinatorMessages.rewriteResponse(
                KafkaResponse(frame: frame, flexibleHeader: false),
                version: version,
                addresses: [1: KafkaBrokerAddress(host: "localhost", port: 9196)]
            )
            if version >= 1 { _ = try rewritten.kafkaInt32() }
            #expect(try rewritten.kafkaInt16() == 0)
            if version >= 1 { #expect(try rewritten.kafkaNullableString() == nil) }
            #expect(try rewritten.kafkaInt32() == 1)
            #expect(try rewritten.kafkaString() == "localhost")
            #expect(try rewritten.kafkaInt32() == 9196)

            var refusal = CoordinatorMessages.refusal(version: version, error: 30, message: "refused")
            if version >= 1 { _ = try refusal.kafkaInt32() }
            #expect(try refusal.kafkaInt16() == 30)
            if version >= 1 { #expect(try refusal.kafkaNullableString() == "refused") }
            #expect(try refusal.kafkaInt32() == -1)
        }
    }

    @Test("a Fetch's MaxWaitMs is rewritten in place; everything else is forwarded byte for byte")
    func fetchMaxWait() throws {
        let request = try Self.request(1, 11) { body in
            body.writeInteger(Int32(-1))
            body.writeInteger(Int32(500))
            body.writeInteger(Int32(1))
            body.writeBytes([9, 9, 9])
        }
        let rewritten = FetchMessages.withMaxWait(request, 5)
        var original = Array(request.frame.readableBytesView)
        let headerLength = request.frame.readableBytes - request.body.readableBytes
        original.replaceSubrange((headerLength + 4)..<(headerLength + 8), with: [0, 0, 0, 5])
        #expect(Array(rewritten.readableBytesView) == original)
    }
}
