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

    /// Valid requests, one per API and version the front parses (as librdkafka and the
    /// Python clients send them), keyed by API key and version.
    static func requestCorpus() -> [(key: (Int16, Int16), frame: ByteBuffer)] {
        func frame(_ key: Int16, _ version: Int16, _ body: (inout ByteBuffer) -> Void) -> ((Int16, Int16), ByteBuffer) {
            var buffer = ByteBuffer()
            buffer.writeInteger(key)
            buffer.writeInteger(version)
            buffer.writeInteger(Int32(42))
            buffer.writeKafkaString("rdkafka")
            if KafkaAPI.isFlexible(key, version) { buffer.writeKafkaEmptyTaggedFields() }
            body(&buffer)
            return ((key, version), buffer)
        }
        func topics(_ buffer: inout ByteBuffer, partition: (inout ByteBuffer) -> Void) {
            buffer.writeInteger(Int32(1))
            buffer.writeKafkaString("org.runs")
            buffer.writeInteger(Int32(2))
            partition(&buffer)
            partition(&buffer)
        }
        var corpus: [((Int16, Int16), ByteBuffer)] = []
        for version: Int16 in 0...3 { corpus.append(frame(KafkaAPI.apiVersions, version) { _ in }) }
        corpus.append(frame(KafkaAPI.saslHandshake, 1) { $0.writeKafkaString("SCRAM-SHA-512") })
        for version: Int16 in 0...2 {
            corpus.append(
                frame(KafkaAPI.saslAuthenticate, version) {
                    let token = ByteBuffer(string: "n,,n=user,r=abc")
                    if version >= 2 { $0.writeKafkaCompactBytes(token) } else { $0.writeKafkaBytes(token) }
                    if version >= 2 { $0.writeKafkaEmptyTaggedFields() }
                }
            )
        }
        for version: Int16 in 0...2 {
            corpus.append(
                frame(KafkaAPI.metadata, version) {
                    var topics = MetadataMessages.requestBody(topics: ["org.runs", "x"])
                    $0.writeBuffer(&topics)
                }
            )
        }
        for version: Int16 in 0...2 {
            corpus.append(
                frame(KafkaAPI.findCoordinator, version) {
                    $0.writeKafkaString("org.group")
                    if version >= 1 { $0.writeInteger(Int8(0)) }
                }
            )
        }
        for version: Int16 in [0, 3, 7] {
            corpus.append(
                frame(KafkaAPI.produce, version) {
                    if version >= 3 { $0.writeKafkaString(nil) }
                    $0.writeInteger(Int16(-1))
                    $0.writeInteger(Int32(1000))
                    topics(&$0) { partition in
                        partition.writeInteger(Int32(0))
                        partition.writeKafkaBytes(ByteBuffer(bytes: [1, 2, 3]))
                    }
                }
            )
        }
        for version: Int16 in [0, 4, 7, 11] {
            corpus.append(
                frame(KafkaAPI.fetch, version) {
                    $0.writeInteger(Int32(-1))
                    $0.writeInteger(Int32(500))
                    $0.writeInteger(Int32(1))
                    if version >= 3 { $0.writeInteger(Int32(1_000_000)) }
                    if version >= 4 { $0.writeInteger(Int8(0)) }
                    if version >= 7 {
                        $0.writeInteger(Int32(0))
                        $0.writeInteger(Int32(-1))
                    }
                    topics(&$0) { partition in
                        partition.writeInteger(Int32(1))
                        if version >= 9 { partition.writeInteger(Int32(-1)) }
                        partition.writeInteger(Int64(5))
                        if version >= 5 { partition.writeInteger(Int64(-1)) }
                        partition.writeInteger(Int32(1_048_576))
                    }
                    if version >= 7 { $0.writeInteger(Int32(0)) }
                    if version >= 11 { $0.writeKafkaString("") }
                }
            )
        }
        for version: Int16 in [1, 5] {
            corpus.append(
                frame(KafkaAPI.listOffsets, version) {
                    $0.writeInteger(Int32(-1))
                    if version >= 2 { $0.writeInteger(Int8(0)) }
                    topics(&$0) { partition in
                        partition.writeInteger(Int32(0))
                        if version >= 4 { partition.writeInteger(Int32(-1)) }
                        partition.writeInteger(Int64(-2))
                    }
                }
            )
        }
        for version: Int16 in [2, 7] {
            corpus.append(
                frame(KafkaAPI.offsetCommit, version) {
                    $0.writeKafkaString("org.group")
                    $0.writeInteger(Int32(3))
                    $0.writeKafkaString("member")
                    if version >= 7 { $0.writeKafkaString(nil) }
                    if (2...4).contains(version) { $0.writeInteger(Int64(-1)) }
                    topics(&$0) { partition in
                        partition.writeInteger(Int32(0))
                        partition.writeInteger(Int64(9))
                        if version >= 6 { partition.writeInteger(Int32(-1)) }
                        partition.writeKafkaString(nil)
                    }
                }
            )
        }
        for version: Int16 in [1, 5] {
            corpus.append(
                frame(KafkaAPI.offsetFetch, version) {
                    $0.writeKafkaString("org.group")
                    $0.writeInteger(Int32(1))
                    $0.writeKafkaString("org.runs")
                    $0.writeInteger(Int32(1))
                    $0.writeInteger(Int32(0))
                }
            )
        }
        for key in [KafkaAPI.joinGroup, KafkaAPI.syncGroup, KafkaAPI.heartbeat, KafkaAPI.leaveGroup] {
            corpus.append(
                frame(key, 1) {
                    $0.writeKafkaString("org.group")
                    $0.writeInteger(Int32(3000))
                    $0.writeKafkaString("")
                }
            )
        }
        return corpus.map { (key: $0.0, frame: $0.1) }
    }

    /// Valid answers of the kinds the front rewrites or reads.
    static func responseCorpus() -> [(Answer, ByteBuffer)] {
        var corpus: [(Answer, ByteBuffer)] = []
        for version: Int16 in 0...2 {
            var body = ByteBuffer()
            body.writeInteger(Int32(1))
            body.writeInteger(Int32(1))
            body.writeKafkaString("127.0.0.1")
            body.writeInteger(Int32(4000))
            if version >= 1 { body.writeKafkaString(nil) }
            if version >= 2 { body.writeKafkaString("cluster") }
            if version >= 1 { body.writeInteger(Int32(1)) }
            body.writeInteger(Int32(1))
            body.writeInteger(Int16(0))
            body.writeKafkaString("org.runs")
            if version >= 1 { body.writeInteger(Int8(0)) }
            body.writeInteger(Int32(1))
            body.writeInteger(Int16(0))
            body.writeInteger(Int32(0))
            body.writeInteger(Int32(1))
            for _ in 0..<2 {
                body.writeInteger(Int32(1))
                body.writeInteger(Int32(1))
            }
            corpus.append((.metadata(version), body))
            var coordinator = ByteBuffer()
            if version >= 1 { coordinator.writeInteger(Int32(0)) }
            coordinator.writeInteger(Int16(0))
            if version >= 1 { coordinator.writeKafkaString(nil) }
            coordinator.writeInteger(Int32(1))
            coordinator.writeKafkaString("127.0.0.1")
            coordinator.writeInteger(Int32(4000))
            corpus.append((.coordinator(version), coordinator))
        }
        for version: Int16 in [0, 4, 11] {
            var body = ByteBuffer()
            if version >= 1 { body.writeInteger(Int32(0)) }
            if version >= 7 {
                body.writeInteger(Int16(0))
                body.writeInteger(Int32(0))
            }
            writeTopics([("org.runs", [0, 1])], to: &body) { body, partition in
                body.writeInteger(partition)
                body.writeInteger(Int16(0))
                body.writeInteger(Int64(10))
                if version >= 4 { body.writeInteger(Int64(10)) }
                if version >= 5 { body.writeInteger(Int64(0)) }
                if version >= 4 { body.writeInteger(Int32(-1)) }
                if version >= 11 { body.writeInteger(Int32(-1)) }
                body.writeKafkaBytes(ByteBuffer(bytes: [0, 1, 2, 3]))
            }
            corpus.append((.fetch(version), body))
        }
        var versions = ByteBuffer()
        versions.writeInteger(Int16(0))
        versions.writeInteger(Int32(2))
        for key: Int16 in [0, 1] {
            versions.writeInteger(key)
            versions.writeInteger(Int16(0))
            versions.writeInteger(Int16(7))
        }
        corpus.append((.apiVersions, versions))
        return corpus
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
