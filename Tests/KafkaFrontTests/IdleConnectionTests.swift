import Foundation
import KafkaBroker
import KafkaFront
import KafkaProtocol
import NIOCore
import NIOPosix
import Synchronization
import TestSupport
import Testing

/// Counts the requests a connection sent and the whole response frames that came back.
final class FrameCounter: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    private struct State {
        var pending: [UInt8] = []
        var answered = 0
        var sent: Int32 = 0
    }
    private let state = Mutex(State())

    var answered: Int { state.withLock { $0.answered } }
    var sent: Int { Int(state.withLock { $0.sent }) }

    /// The next request's correlation id, counted as sent.
    func nextRequest() -> Int32 {
        state.withLock { state in
            state.sent += 1
            return state.sent
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = Self.unwrapInboundIn(data).readableBytesView
        state.withLock { state in
            state.pending += bytes
            while state.pending.count >= 4 {
                let length = state.pending.prefix(4).reduce(0) { $0 << 8 | Int($1) }
                guard state.pending.count >= 4 + length else { break }
                state.pending.removeFirst(4 + length)
                state.answered += 1
            }
        }
    }
}

/// Kafka's `connections.max.idle.ms` on the front, shortened to 5 seconds.
@Suite(
    "Idle connections: the front closes a silent one after its idle timeout, not a busy one",
    .heavy,
    .timeLimit(.minutes(10))
)
struct IdleConnectionTests {
    /// Runs `body` with a front whose idle timeout is 5 seconds, and stops the front however
    /// `body` ends.
    static func withFront<Value: Sendable>(
        _ body: @escaping @Sendable (KafkaFront) async throws -> Value
    ) async throws -> Value {
        let broker = KafkaBroker()
        broker.createTopic("org_front.runs", partitions: 1)
        var configuration = KafkaFrontConfiguration(
            broker: broker,
            plaintextPrincipal: "org_front",
            acl: KafkaACL(orgID: "org_front", readableTopics: ["org_front.runs"])
        )
        configuration.tls = try FrontTLSIdentity.generate()
        configuration.idleTimeout = .seconds(5)  // long enough for a loaded machine's pauses
        return try await KafkaFront.withRunning(configuration: configuration, logger: quietLogger, body)
    }

    /// How long a close may take to reach the client. NIO's sockets are not close-on-exec and
    /// `ChildProcess.spawn` closes no descriptor: a child that another test of this process
    /// spawns while a connection is open (a Kafka client) holds the front's end of it, and the
    /// client sees the front's close only once that child has exited.
    static let closeSeenWithin: Duration = .seconds(120)

    /// An ApiVersions v2 request, framed.
    static func apiVersions(correlationID: Int32) -> ByteBuffer {
        var request = KafkaRequest.frame(
            apiKey: KafkaAPI.apiVersions,
            version: 2,
            correlationID: correlationID,
            clientID: "idle-test"
        )
        var frame = ByteBuffer()
        frame.writeInteger(Int32(request.readableBytes))
        frame.writeBuffer(&request)
        return frame
    }

    /// Whether one ApiVersions request on a fresh connection is answered before it closes.
    static func answers(port: Int) async throws -> Bool {
        try await RawConnection.open(port: port).channel.executeThenClose { inbound, outbound in
            try await outbound.write(apiVersions(correlationID: 1))
            var received = 0
            do {
                for try await chunk in inbound {
                    received += chunk.readableBytes
                    if received >= 4 { return true }
                }
            } catch {}
            return false
        }
    }

    @Test("a TCP connection that sends nothing is closed by the front (EOF), on either listener")
    func silentConnectionClosed() async throws {
        try await Self.withFront { front in
            for listener in front.listeners {
                let opened = ContinuousClock.now
                let connection = try await RawConnection.open(port: listener.port)
                let answer = try await connection.sendAndAwaitClose(
                    [],
                    "a silent \(listener.kind) connection",
                    within: Self.closeSeenWithin
                )
                let after = ContinuousClock.now - opened
                #expect(answer.isEmpty, "\(listener.kind): \(answer.count) bytes")
                // Closed for its silence, not at once: never before the idle timeout.
                #expect(after >= .milliseconds(4900), "\(listener.kind): closed \(after) after it opened")
            }
        }
    }

    @Test(
        "a connection sending ApiVersions every 200 ms stays open past twice the idle timeout, and closes once it stops"
    )
    func busyConnectionStaysOpen() async throws {
        try await Self.withFront { front in
            let port = try #require(front.listeners.first { $0.kind == .plaintext }).port
            // In a loaded run (a second copy of the suite, dozens of clients starting on two cores) a
            // front just started may not answer its first connection within the idle timeout,
            // which then closes it unanswered. Start-up is not this test's subject: it begins once
            // a request is answered.
            try await waitUntil("the front to answer an ApiVersions request", within: .seconds(60)) {
                try await Self.answers(port: port)
            }
            let counter = FrameCounter()
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(counter) }
                }
                .connect(host: "127.0.0.1", port: port).get()
            let opened = ContinuousClock.now
            // Paced on the connection's event loop, so that a busy cooperative pool cannot delay it.
            let sender = channel.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(200)) { _ in
                channel.writeAndFlush(Self.apiVersions(correlationID: counter.nextRequest()), promise: nil)
            }
            // The property under test is the time itself: 11 s, more than twice the idle timeout.
            while ContinuousClock.now - opened < .seconds(11), channel.isActive {
                try await Task.sleep(for: .milliseconds(50))
            }
            let openFor = ContinuousClock.now - opened
            sender.cancel()
            #expect(
                channel.isActive,
                "closed after \(openFor): \(counter.sent) requests sent, \(counter.answered) answered"
            )
            do {
                try await waitUntil("an answer to every request") { counter.answered == counter.sent }
            } catch {
                Issue.record("\(error): \(counter.sent) requests sent, \(counter.answered) answered")
            }
            #expect(counter.sent >= 2, "\(counter.sent) requests in \(openFor)")

            // Silent from now on: the front closes it.
            try await withDeadline(Self.closeSeenWithin, "the front to close the connection once it is idle") {
                try await channel.closeFuture.get()
            }
        }
    }
}
