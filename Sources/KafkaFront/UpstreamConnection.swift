import NIOCore
import NIOPosix

/// One connection from the front to a mock broker. Requests go out in the order `send` is
/// called; the broker answers in that order, so each answer completes the oldest promise.
final class UpstreamConnection: Sendable {
    private let channel: any Channel

    private init(channel: any Channel) { self.channel = channel }

    static func connect(
        host: String,
        port: Int,
        group: any EventLoopGroup,
        maximumFrameSize: Int
    ) async throws -> UpstreamConnection {
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(KafkaFrameDecoder(maximumFrameSize: maximumFrameSize))
                    )
                    try channel.pipeline.syncOperations.addHandler(KafkaFrameWriter())
                    try channel.pipeline.syncOperations.addHandler(UpstreamHandler())
                }
            }
            .connect(host: host, port: port)
            .get()
        return UpstreamConnection(channel: channel)
    }

    /// Sends one request frame; the future holds the answer frame, or nil at once when the
    /// request gets none (Produce with acks 0).
    func send(_ frame: ByteBuffer, expectsResponse: Bool = true) -> EventLoopFuture<ByteBuffer?> {
        let promise = channel.eventLoop.makePromise(of: ByteBuffer?.self)
        channel.writeAndFlush(UpstreamHandler.Request(frame: frame, answer: expectsResponse ? promise : nil))
            .whenFailure { promise.fail($0) }
        if !expectsResponse { promise.succeed(nil) }
        return promise.futureResult
    }

    func close() {
        channel.close(promise: nil)
    }
}

/// Pairs answers with requests, oldest first, and fails what is pending when the
/// connection ends.
final class UpstreamHandler: ChannelDuplexHandler {
    struct Request: Sendable {
        let frame: ByteBuffer
        let answer: EventLoopPromise<ByteBuffer?>?
    }

    struct Closed: Error, CustomStringConvertible {
        var description: String { "the embedded broker closed the connection" }
    }

    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Request
    typealias OutboundOut = ByteBuffer

    private var pending = CircularBuffer<EventLoopPromise<ByteBuffer?>>()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let answer = request.answer { pending.append(answer) }
        context.write(wrapOutboundOut(request.frame), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let answer = pending.popFirst() else {
            context.close(promise: nil)
            return
        }
        answer.succeed(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        failPending(Closed())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failPending(error)
        context.close(promise: nil)
    }

    private func failPending(_ error: any Error) {
        while let answer = pending.popFirst() { answer.fail(error) }
    }
}
