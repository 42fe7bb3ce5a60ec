package import KafkaProtocol
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
    package static let saslHandshake: Int16 = 17
    package static let apiVersions: Int16 = 18
    package static let initProducerID: Int16 = 22
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

    package static func name(_ key: Int16) -> String { names[key] ?? "ApiKey(\(key))" }

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

/// Splits a byte stream into Kafka frames (int32 size, then that many bytes) and refuses
/// a frame over `maximumFrameSize`, so a client announcing 2 GiB is disconnected at once.
package struct KafkaFrameDecoder: ByteToMessageDecoder {
    package typealias InboundOut = ByteBuffer

    /// Why a connection's byte stream is not Kafka.
    package struct Refusal: Error, CustomStringConvertible {
        package let description: String
    }

    let maximumFrameSize: Int

    package init(maximumFrameSize: Int) { self.maximumFrameSize = maximumFrameSize }

    package mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let size = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return .needMoreData }
        guard size >= 0, Int(size) <= maximumFrameSize else {
            let first = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) ?? 0
            if first == 0x1603 {
                throw Refusal(description: "a TLS handshake on a plaintext Kafka listener (use the SASL_SSL listener)")
            }
            throw Refusal(description: "a frame announcing \(size) bytes (the limit is \(maximumFrameSize))")
        }
        guard buffer.readableBytes >= 4 + Int(size) else {
            // Room for the whole frame at once (up to 16 MiB), rather than growing the
            // buffer read by read: large Fetch answers are copied once, not many times.
            let missing = min(4 + Int(size), 16 * 1024 * 1024) - buffer.readableBytes
            if missing > buffer.writableBytes { buffer.reserveCapacity(minimumWritableBytes: missing) }
            return .needMoreData
        }
        buffer.moveReaderIndex(forwardBy: 4)
        context.fireChannelRead(wrapInboundOut(buffer.readSlice(length: Int(size))!))
        return .continue
    }

    package mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Prefixes each outgoing frame with its int32 size: the size goes out as its own 4-byte
/// buffer and the frame as it is, so that a forwarded Fetch answer is never copied.
package final class KafkaFrameWriter: ChannelOutboundHandler, Sendable {
    package typealias OutboundIn = ByteBuffer
    package typealias OutboundOut = ByteBuffer

    package init() {}

    package func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let frame = unwrapOutboundIn(data)
        var size = context.channel.allocator.buffer(capacity: 4)
        size.writeInteger(Int32(frame.readableBytes))
        context.write(wrapOutboundOut(size), promise: nil)
        context.write(wrapOutboundOut(frame), promise: promise)
    }
}
