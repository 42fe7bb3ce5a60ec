import Emulator
import Foundation
import KafkaBroker
import KafkaFront
import KafkaProtocol
import Logging
import NIOCore
import NIOPosix
import Synchronization
import TestSupport
import Testing

/// Collects the warnings a component logs.
final class LogCollector: Sendable {
    private let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }
    func append(_ line: String) { lines.withLock { $0.append(line) } }

    var logger: Logger {
        Logger(label: "collected") { _ in CollectingHandler(collector: self) }
    }

    struct CollectingHandler: LogHandler {
        let collector: LogCollector
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .warning
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        // swift-format-ignore: AllPublicDeclarationsHaveDocumentation
        func log(event: LogEvent) {
            let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            collector.append("\(event.message) \(fields.joined(separator: " "))")
        }
    }
}

/// A raw TCP connection for bytes no Kafka client sends.
struct RawConnection {
    let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>

    static func open(port: Int) async throws -> RawConnection {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return RawConnection(channel: channel)
    }

    /// A bare channel, for bytes sent without waiting for an answer.
    static func plain(port: Int) async throws -> any Channel {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port)
            .get()
    }

    /// Sends `bytes`, then reads until the server closes; returns what it answered, or
    /// throws when it is still open after `limit`.
    func sendAndAwaitClose(
        _ bytes: [UInt8],
        _ what: String,
        within limit: Duration = .seconds(60)
    ) async throws -> [UInt8] {
        let channel = self.channel
        return try await withDeadline(limit, "the front to close the connection after \(what)") {
            try await channel.executeThenClose { inbound, outbound in
                // Nothing to send is no write: a silent connection the front has already
                // closed (a loaded machine, a short idle timeout) must read as closed, not fail.
                if !bytes.isEmpty { try await outbound.write(ByteBuffer(bytes: bytes)) }
                var received: [UInt8] = []
                do {
                    for try await chunk in inbound { received += Array(chunk.readableBytesView) }
                } catch {}
                return received
            }
        }
    }
}

@Suite(
    "Bad input on the front's listeners: closed, logged once, never a crash or a stall",
    .heavy,
    .timeLimit(.minutes(10))
)
struct FrontBadInputTests {
    static func frame(_ body: [UInt8]) -> [UInt8] {
        withUnsafeBytes(of: Int32(body.count).bigEndian, Array.init) + body
    }

    @Test(
        "TLS on the plaintext port, garbage, a 2 GiB frame, an unknown API, a version not served, plaintext on the TLS port"
    )
    func badConnections() async throws {
        let logs = LogCollector()
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        configuration.orgID = "org_front"
        try await PortEmulator.withRunning(configuration: configuration, logger: logs.logger) { emulator in
            let plaintext = Int(emulator.info.kafkaBootstrapServers.split(separator: ":").last!)!
            let tls = Int(emulator.info.kafkaSASLSSLBootstrapServers!.split(separator: ":").last!)!

            // A half-open connection: a frame announced, a tenth of it sent, then silence.
            let halfOpen = try await RawConnection.plain(port: plaintext)
            try await halfOpen.writeAndFlush(ByteBuffer(bytes: [0, 0, 0, 100, 0, 18, 0, 0, 0, 0]))

            let clientHello: [UInt8] =
                [0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03] + Array(repeating: 7, count: 32)
            let apiVersions = Self.frame([0, 18, 0, 0, 0, 0, 0, 1, 0, 3] + Array("abc".utf8))
            let unknown = KafkaRequest.frame(apiKey: 999, version: 0, correlationID: 1, clientID: "raw")
            // A well-formed flexible header (tagged fields included), of a version not served.
            let tooNew = KafkaRequest.frame(apiKey: KafkaAPI.produce, version: 99, correlationID: 1, clientID: "raw")
            let cases: [(String, Int, [UInt8])] = [
                ("TLS on the plaintext listener", plaintext, clientHello),
                ("garbage", plaintext, Self.frame([0xff, 0xfe, 0x01, 0x02, 0x03, 0x04, 0x05])),
                ("a 2 GiB frame", plaintext, [0x7f, 0xff, 0xff, 0xff, 0, 1, 2, 3]),
                ("an unknown API key", plaintext, Self.frame(Array(unknown.readableBytesView))),
                ("Produce v99", plaintext, Self.frame(Array(tooNew.readableBytesView))),
                ("plaintext Kafka on the SASL_SSL listener", tls, apiVersions),
            ]
            for (name, port, bytes) in cases {
                let answer = try await RawConnection.open(port: port).sendAndAwaitClose(bytes, name)
                #expect(answer.isEmpty || port == tls, "\(name): answered \(answer.count) bytes before closing")
            }
            // Random bytes on fresh connections, each closed or answered, never a stall.
            var random = SystemRandomNumberGenerator()
            for _ in 0..<30 {
                let bytes = (0..<Int.random(in: 4...64, using: &random)).map { _ in
                    UInt8.random(in: 0...255, using: &random)
                }
                let connection = try await RawConnection.plain(port: plaintext)
                try await connection.writeAndFlush(ByteBuffer(bytes: bytes))
                try? await connection.close()
            }

            // The front still serves a real client, the half-open connection notwithstanding.
            let kcat = try await Clients.kcat(["-L", "-b", emulator.info.kafkaBootstrapServers, "-m", "10"])
            #expect(kcat.status == 0, "\(kcat)")
            #expect(kcat.messages.contains { $0.contains("org_front.runs") })
            let closed = logs.all.filter { $0.contains("Kafka connection closed") }
            for (name, reason) in [
                ("TLS on the plaintext listener", "a TLS handshake on a plaintext Kafka listener"),
                ("a 2 GiB frame", "a frame announcing 2147483647 bytes"),
                ("an unknown API key", "unknown API key 999"),
                ("Produce v99", "Produce v99 is not served"),
            ] {
                #expect(closed.filter { $0.contains(reason) }.count == 1, "\(name) logged once: \(closed)")
            }
            try? await halfOpen.close()
        }
    }

    @Test(
        "the front's parsers take 40,000 random and mutated requests of every API and version, and SCRAM messages, without a crash"
    )
    func fuzzParsers() async {
        // In rounds of 1,000, yielding between them: the suite's other tests share the pool.
        let seed = UInt64.random(in: .min ... .max)
        var inputs = 0
        var accepted = 0
        var failures: [String] = []
        for round in 0..<40 {
            let result = FrontFuzzer.run(iterations: 1_000, seed: seed &+ UInt64(round))
            inputs += result.inputs
            accepted += result.accepted
            failures += result.roundTripFailures
            await Task.yield()
        }
        #expect(inputs == 40_000, "seed \(seed)")
        #expect(accepted > 0 && accepted < inputs, "seed \(seed): \(accepted) parsed")
        #expect(failures.isEmpty, "seed \(seed): \(failures.prefix(3))")
    }
}
