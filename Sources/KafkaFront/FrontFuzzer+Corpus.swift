import KafkaProtocol
import NIOCore

/// The valid messages the fuzzer mutates.
extension FrontFuzzer {
    /// Valid requests, one per API and version the front parses (as librdkafka and the
    /// Python clients send them), keyed by API key and version.
    static func requestCorpus() -> [(key: (Int16, Int16), frame: ByteBuffer)] {
        func frame(_ key: Int16, _ version: Int16, _ body: (inout ByteBuffer) -> Void) -> ((Int16, Int16), ByteBuffer) {
            (
                (key, version),
                KafkaRequest.frame(apiKey: key, version: version, correlationID: 42, clientID: "rdkafka", body: body)
            )
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
