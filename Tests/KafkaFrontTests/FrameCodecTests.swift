import KafkaFront
import NIOCore
import NIOEmbedded
import Synchronization
import Testing

/// Whether a promise was fulfilled, as seen from the test.
private final class Fulfilled: Sendable {
    let value = Mutex(false)
}

/// The front's framing on its own: what goes to the socket for each answer, and what the
/// decoder makes of a byte stream however it is cut.
@Suite(.timeLimit(.minutes(10))) struct FrameCodecTests {
    /// Everything the writer sent for one frame, buffer by buffer.
    private func written(_ frame: ByteBuffer, sliceSize: Int?) throws -> (chunks: [ByteBuffer], flushed: Bool) {
        let channel = EmbeddedChannel(handler: KafkaFrameWriter(sliceSize: sliceSize))
        defer { _ = try? channel.finish() }
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(frame, promise: promise)
        var chunks: [ByteBuffer] = []
        while let chunk = try channel.readOutbound(as: ByteBuffer.self) { chunks.append(chunk) }
        let flushed = Fulfilled()
        promise.futureResult.whenSuccess { flushed.value.withLock { $0 = true } }
        return (chunks, flushed.value.withLock { $0 })
    }

    private func frame(_ size: Int) -> ByteBuffer {
        ByteBuffer(bytes: (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
    }

    private func joined(_ chunks: [ByteBuffer]) -> ByteBuffer {
        var all = ByteBuffer()
        for var chunk in chunks { all.writeBuffer(&chunk) }
        return all
    }

    private func expected(_ frame: ByteBuffer) -> ByteBuffer {
        var bytes = ByteBuffer()
        bytes.writeInteger(Int32(frame.readableBytes))
        bytes.writeImmutableBuffer(frame)
        return bytes
    }

    @Test("plaintext: the size, then the frame as it is, never copied or cut")
    func plaintextFrame() throws {
        let answer = frame(200_000)
        let (chunks, flushed) = try written(answer, sliceSize: nil)
        #expect(chunks.count == 2)
        #expect(chunks.first?.readableBytes == 4)
        #expect(chunks.last == answer)
        #expect(joined(chunks) == expected(answer))
        #expect(flushed)
    }

    @Test(
        "TLS: a large frame goes out in slices that carry exactly the size and the frame",
        arguments: [0, 1, 1023, 1024, 1025, 3 * 1024 + 5, 64 * 1024]
    )
    func slicedFrame(size: Int) throws {
        let answer = frame(size)
        let (chunks, flushed) = try written(answer, sliceSize: 1024)
        #expect(joined(chunks) == expected(answer))
        #expect(flushed, "the frame's promise completes once its last slice is written")
        if size > 1024 {
            // The size rides in the first slice (no TLS record of its own); no slice is larger
            // than the slice size, so the TLS handler encrypts and sends one at a time.
            #expect(chunks.count == (size + 1023) / 1024)
            #expect(chunks.first?.readableBytes == 4 + 1024)
            #expect(chunks.dropFirst().allSatisfy { $0.readableBytes <= 1024 })
        } else {
            #expect(chunks.count == 2)
        }
    }

    @Test("the decoder gives back every frame whatever the cuts in the byte stream")
    func decoderRoundTrip() throws {
        let frames = [0, 5, 1024, 20_000, 3].map { frame($0) }
        var stream = ByteBuffer()
        for frame in frames { stream.writeImmutableBuffer(expected(frame)) }
        for cut in [1, 3, 7, 4096, stream.readableBytes] {
            let channel = EmbeddedChannel(
                handler: ByteToMessageHandler(KafkaFrameDecoder(maximumFrameSize: 1 << 20))
            )
            var rest = stream
            while rest.readableBytes > 0 {
                try channel.writeInbound(rest.readSlice(length: min(cut, rest.readableBytes))!)
            }
            var decoded: [ByteBuffer] = []
            while let frame = try channel.readInbound(as: ByteBuffer.self) { decoded.append(frame) }
            #expect(decoded == frames, "cut every \(cut) bytes")
            #expect(try channel.finish().isClean)
        }
    }

    #if os(Linux)
    @Test("a request that arrived in part is acknowledged at once (TCP_QUICKACK), not after 40 ms")
    func partialRequestIsAcknowledged() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(KafkaFrameDecoder(maximumFrameSize: 1 << 20)))
        defer { _ = try? channel.finish() }
        // A whole frame asks for nothing: the client is not waiting on an ACK.
        try channel.syncOptions?.setOption(KafkaFrameDecoder.quickACK, value: 0)
        try channel.writeInbound(expected(frame(10)))
        #expect(try channel.syncOptions?.getOption(KafkaFrameDecoder.quickACK) == 0)
        // A frame's first part (librdkafka over TLS: the header's record, the body's held
        // back by Nagle until this one is acknowledged) asks the kernel to ACK now.
        var partial = expected(frame(300))
        try channel.writeInbound(partial.readSlice(length: 100)!)
        #expect(try channel.syncOptions?.getOption(KafkaFrameDecoder.quickACK) == 1)
    }
    #endif
}
