import KafkaProtocol
import NIOCore

/// A bounded random-input harness for the front's parsers: random bytes and mutations of
/// valid requests and answers go through every request parser, response rewriter and the
/// SCRAM exchange. A crash ends the process (the run fails); a parser must only ever
/// return or throw `KafkaWireError`. The suite runs a few thousand inputs, `make bench` a
/// million.
package enum FrontFuzzer {
    /// What a run tried.
    package struct Result: Sendable {
        /// Inputs tried in all.
        package var inputs = 0
        /// Of those, how many parsed without an error (the rest were refused cleanly).
        package var accepted = 0
    }

    /// Tries `iterations` inputs from `seed` (same seed, same inputs).
    package static func run(iterations: Int, seed: UInt64) -> Result {
        var random = SplitMix64(seed: seed)
        var result = Result()
        let corpus = requestCorpus()
        let answers = responseCorpus()
        for index in 0..<iterations {
            result.inputs += 1
            switch index % 4 {
            case 0:
                // A header for a known API and version, then random bytes.
                let (key, version) = corpus[Int(random.next() % UInt64(corpus.count))].key
                var frame = ByteBuffer()
                frame.writeInteger(key)
                frame.writeInteger(version)
                frame.writeInteger(Int32(7))
                frame.writeKafkaString("fuzz")
                frame.writeBytes(random.bytes(Int(random.next() % 200)))
                if parseRequest(frame) { result.accepted += 1 }
            case 1:
                let base = corpus[Int(random.next() % UInt64(corpus.count))].frame
                if parseRequest(random.mutate(base)) { result.accepted += 1 }
            case 2:
                let (kind, body) = answers[Int(random.next() % UInt64(answers.count))]
                if parseResponse(kind, random.mutate(body)) { result.accepted += 1 }
            default:
                var exchange = ScramServerExchange(mechanism: .sha512) { user, mechanism in
                    user == "fuzz" ? fuzzCredential : nil
                }
                let first = Array("n,,n=fuzz,r=".utf8) + random.bytes(Int(random.next() % 40))
                _ = exchange.receive(random.next() % 2 == 0 ? first : random.bytes(Int(random.next() % 80)))
                if case .failure = exchange.receive(random.bytes(Int(random.next() % 160))) {
                } else {
                    result.accepted += 1
                }
            }
        }
        return result
    }

    private static let fuzzCredential = ScramCredential(mechanism: .sha512, password: "fuzz", iterations: 16)

    /// Every parse the front does on a request of this API, as the session would.
    private static func parseRequest(_ frame: ByteBuffer) -> Bool {
        do {
            let request = try KafkaRequest(frame: frame)
            switch request.apiKey {
            case KafkaAPI.apiVersions:
                _ = HandshakeMessages.apiVersionsResponse(to: request, ranges: [])
            case KafkaAPI.saslHandshake: _ = try HandshakeMessages.handshakeMechanism(request)
            case KafkaAPI.saslAuthenticate: _ = try HandshakeMessages.authenticateBytes(request)
            case KafkaAPI.metadata: _ = try MetadataMessages.requestedTopics(request)
            case KafkaAPI.findCoordinator: _ = try CoordinatorMessages.key(request)
            case KafkaAPI.produce:
                let (_, topics) = try ProduceMessages.parse(request)
                _ = ProduceMessages.refusal(version: request.apiVersion, topics: topics, error: 29)
            case KafkaAPI.fetch:
                let fetch = try FetchMessages.parse(request)
                _ = FetchMessages.withMaxWait(request, 5)
                _ = FetchMessages.refusal(version: request.apiVersion, topics: fetch.topics, error: 29)
            case KafkaAPI.listOffsets:
                let topics = try ListOffsetsMessages.topics(request)
                _ = ListOffsetsMessages.refusal(version: request.apiVersion, topics: topics, error: 29)
            case let key where GroupMessages.apis.contains(key):
                _ = try GroupMessages.groupID(request)
                let topics =
                    key == KafkaAPI.offsetCommit || key == KafkaAPI.offsetFetch
                    ? try GroupMessages.topics(request) : nil
                _ = GroupMessages.refusal(request, error: 30, topics: topics ?? [])
            default: break
            }
            return true
        } catch {
            return false
        }
    }

    enum Answer {
        case metadata(Int16)
        case coordinator(Int16)
        case fetch(Int16)
        case apiVersions
    }

    private static func parseResponse(_ kind: Answer, _ body: ByteBuffer) -> Bool {
        var frame = ByteBuffer()
        frame.writeInteger(Int32(7))
        var body = body
        frame.writeBuffer(&body)
        do {
            let response = try KafkaResponse(frame: frame, flexibleHeader: false)
            let addresses: [Int32: KafkaBrokerAddress] = [1: KafkaBrokerAddress(host: "127.0.0.1", port: 9092)]
            switch kind {
            case .metadata(let version):
                _ = try MetadataMessages.rewriteResponse(
                    response,
                    version: version,
                    addresses: addresses,
                    keep: { $0.hasPrefix("o") },
                    refused: ["x"],
                    error: 29
                )
            case .coordinator(let version):
                _ = try CoordinatorMessages.rewriteResponse(response, version: version, addresses: addresses)
            case .fetch(let version): _ = try FetchMessages.summary(response, version: version)
            case .apiVersions: _ = try HandshakeMessages.parseAPIVersions(response.body)
            }
            return true
        } catch {
            return false
        }
    }
}

/// A small, seeded generator, so that a failing input can be found again.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }

    /// `buffer` with a few bytes flipped, cut short, or grown by random bytes; big-endian
    /// length fields get extreme values often, as they are what parsers trust.
    mutating func mutate(_ buffer: ByteBuffer) -> ByteBuffer {
        var bytes = Array(buffer.readableBytesView)
        for _ in 0..<(1 + Int(next() % 4)) {
            switch next() % 5 {
            case 0 where !bytes.isEmpty: bytes[Int(next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: next())
            case 1 where !bytes.isEmpty: bytes.removeLast(Int(next() % UInt64(bytes.count)))
            case 2: bytes += self.bytes(Int(next() % 16))
            case 3 where bytes.count >= 4:
                let at = Int(next() % UInt64(bytes.count - 3))
                let extreme: [UInt8] = [
                    [0x7f, 0xff, 0xff, 0xff], [0xff, 0xff, 0xff, 0xff], [0x80, 0, 0, 0], [0, 0, 0, 0],
                ][
                    Int(next() % 4)
                ]
                bytes.replaceSubrange(at..<at + 4, with: extreme)
            default:
                if !bytes.isEmpty { bytes[Int(next() % UInt64(bytes.count))] ^= 0x80 }
            }
        }
        return ByteBuffer(bytes: bytes)
    }
}
