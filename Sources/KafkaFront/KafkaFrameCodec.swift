package import NIOCore

#if canImport(Glibc)
import Glibc
#endif

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
            acknowledgeNow(context.channel)
            return .needMoreData
        }
        buffer.moveReaderIndex(forwardBy: 4)
        context.fireChannelRead(wrapInboundOut(buffer.readSlice(length: Int(size))!))
        return .continue
    }

    /// Acknowledges what has arrived at once, while the rest of a request is awaited.
    ///
    /// A request/response connection is in Linux's delayed-ACK mode, and a client with
    /// Nagle's algorithm on (librdkafka's default) holds the rest of a request written in
    /// pieces until the first piece is acknowledged. librdkafka writes each request over TLS
    /// as one TLS record per piece (its header, then its body), so without this every
    /// request waited out the 40 ms delayed-ACK timer: a third of SASL_SSL throughput.
    private func acknowledgeNow(_ channel: any Channel) {
        #if os(Linux)
        try? channel.syncOptions?.setOption(Self.quickACK, value: 1)
        #endif
    }

    #if os(Linux)
    /// `TCP_QUICKACK`, which NIO does not name: setting it sends a pending ACK now.
    package static let quickACK = ChannelOptions.Types.SocketOption(
        level: .tcp,
        name: NIOBSDSocket.Option(rawValue: 12)
    )
    #endif

    package mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Prefixes each outgoing frame with its int32 size.
///
/// In plaintext the size goes out as its own 4-byte buffer and the frame as it is, so that
/// a Fetch answer is never copied. Under TLS (`sliceSize` set) a large frame goes out in
/// slices, each flushed on its own: the TLS handler encrypts a slice and hands it to the
/// socket before it encrypts the next, so the client decrypts the start of a 12 MiB answer
/// while the rest is still being encrypted, instead of waiting for all of it.
package final class KafkaFrameWriter: ChannelOutboundHandler, Sendable {
    package typealias OutboundIn = ByteBuffer
    package typealias OutboundOut = ByteBuffer

    private let sliceSize: Int?

    /// A writer that flushes frames over `sliceSize` bytes a slice at a time (for TLS).
    package init(sliceSize: Int? = nil) { self.sliceSize = sliceSize }

    package func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var frame = unwrapOutboundIn(data)
        guard let sliceSize, frame.readableBytes > sliceSize else {
            var size = context.channel.allocator.buffer(capacity: 4)
            size.writeInteger(Int32(frame.readableBytes))
            context.write(wrapOutboundOut(size), promise: nil)
            context.write(wrapOutboundOut(frame), promise: promise)
            return
        }
        // The size travels in the first slice's TLS record rather than a record of its own.
        var first = context.channel.allocator.buffer(capacity: 4 + sliceSize)
        first.writeInteger(Int32(frame.readableBytes))
        var head = frame.readSlice(length: sliceSize)!
        first.writeBuffer(&head)
        context.write(wrapOutboundOut(first), promise: nil)
        while frame.readableBytes > sliceSize {
            context.flush()
            context.write(wrapOutboundOut(frame.readSlice(length: sliceSize)!), promise: nil)
        }
        context.flush()
        context.write(wrapOutboundOut(frame), promise: promise)
    }
}
