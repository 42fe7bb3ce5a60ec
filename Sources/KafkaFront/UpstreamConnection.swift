import KafkaProtocol
import NIOCore
import NIOPosix

/// One connection from the front to a mock broker. Requests go out in the order `send` is
/// called; each answer completes the promise of the request with its correlation id.
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

/// Pairs each answer with its request by correlation id: the mock broker holds a JoinGroup
/// answer until the rebalance ends and answers later requests meanwhile (Kafka itself
/// answers in order; the front restores that order towards the client). The pending
/// requests fail when the connection ends.
final class UpstreamHandler: ChannelDuplexHandler {
    struct Request: Sendable {
        let frame: ByteBuffer
        let answer: EventLoopPromise<ByteBuffer?>?
    }

    struct Closed: Error, CustomStringConvertible {
        var description: String { "the embedded broker closed the connection" }
    }

    struct Unexpected: Error, CustomStringConvertible {
        let correlationID: Int32?
        var description: String {
            "the embedded broker answered correlation id \(correlationID.map(String.init) ?? "none"), which no request had"
        }
    }

    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Request
    typealias OutboundOut = ByteBuffer

    private var pending: [Int32: EventLoopPromise<ByteBuffer?>] = [:]

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let answer = request.answer {
            // The request header: api key (2), version (2), then the correlation id.
            guard let correlationID = request.frame.getInteger(at: request.frame.readerIndex + 4, as: Int32.self) else {
                answer.fail(KafkaWireError("a request frame too short for a header"))
                promise?.succeed()
                return
            }
            pending[correlationID] = answer
        }
        context.write(wrapOutboundOut(request.frame), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let correlationID = frame.getInteger(at: frame.readerIndex, as: Int32.self)
        guard let correlationID, let answer = pending.removeValue(forKey: correlationID) else {
            failPending(Unexpected(correlationID: correlationID))
            context.close(promise: nil)
            return
        }
        answer.succeed(frame)
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
        let answers = pending.values
        pending.removeAll()
        for answer in answers { answer.fail(error) }
    }
}
