package import NIOCore

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
/// buffer and the frame as it is, so that a Fetch answer is never copied.
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
