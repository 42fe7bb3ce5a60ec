import KafkaProtocol
import KafkaRecords
import NIOCore
import Synchronization
import TestSupport
import Testing

@testable import KafkaBroker

/// The broker's answers to encoded requests, as a Kafka client reads them: ApiVersions,
/// Metadata, Produce, Fetch, ListOffsets and OffsetForLeaderEpoch.
@Suite(.timeLimit(.minutes(10))) struct BrokerRequestTests {
    let harness = BrokerHarness(topics: ["orders": 1, "audit": 2])

    @Test("ApiVersions lists every served API with exactly the schema's versions, at every version")
    func apiVersionsListTheSchemas() async throws {
        for version: Int16 in 0...4 {
            let answer = try await harness.call(KafkaAPI.apiVersions, version, [:])
            #expect(answer.error() == 0)
            var listed: [Int16: KafkaVersions] = [:]
            for key in answer.structs("ApiKeys") {
                listed[Int16(key.int("ApiKey"))] = KafkaVersions(
                    Int16(key.int("MinVersion")),
                    Int16(key.int("MaxVersion"))
                )
            }
            #expect(listed == KafkaSchemas.requests.mapValues(\.valid))
            #expect(listed[68] == nil, "ConsumerGroupHeartbeat is not served")
        }
    }

    @Test("ApiVersions above v4 is answered in v0's layout with UNSUPPORTED_VERSION and only ApiVersions' range")
    func apiVersionsUnsupportedVersion() async throws {
        let answer = try #require(try await harness.send(KafkaAPI.apiVersions, 5, [:], answerVersion: 0))
        #expect(answer.error() == KafkaErrorCode.unsupportedVersion.rawValue)
        // As Kafka answers it (KIP-511): the client retries with a version in this range.
        let own = try answer.only("ApiKeys")
        #expect(own.int("ApiKey") == Int64(KafkaAPI.apiVersions))
        #expect(own.int("MinVersion") == 0)
        #expect(own.int("MaxVersion") == 4)
    }

    @Test("Metadata v12 gives each topic a stable non-zero id, and Fetch v13+ by that id reads the topic")
    func topicIDsReachFetch() async throws {
        let named = try await harness.metadata(["orders"]).only("Topics")
        let topics = try await harness.metadata(nil).structs("Topics")
        #expect(topics.map { $0.string("Name") } == ["audit", "orders"])
        let orders = try #require(topics.first { $0.string("Name") == "orders" })
        let id = try #require(orders["TopicId"].uuid)
        #expect(id != .zero)
        #expect(topics.allSatisfy { $0["TopicId"].uuid != .zero && $0.error() == 0 })
        #expect(named["TopicId"].uuid == id)
        #expect(try named.only("Partitions").int("LeaderId") == 1)

        _ = try await harness.produce("orders", produced([1, 2], prefix: "order-"))
        for version: Int16 in [13, 17] {
            let answer = try await harness.fetch("", id: id, version: version)
            let topic = try answer.only("Responses")
            #expect(topic["TopicId"].uuid == id)
            let partition = try topic.only("Partitions")
            #expect(partition.error() == 0)
            #expect(partition.int("HighWatermark") == 2)
            #expect(try values(#require(partition["Records"].bytes)) == ["order-0", "order-1"])
        }
    }

    @Test("Fetch v13 of an unknown topic id answers UNKNOWN_TOPIC_ID")
    func unknownTopicID() async throws {
        let answer = try await harness.fetch("", id: KafkaUUID(high: 1, low: 2), version: 13)
        let partition = try answer.only("Responses").only("Partitions")
        #expect(partition.error() == KafkaErrorCode.unknownTopicID.rawValue)
    }

    @Test("Metadata answers UNKNOWN_TOPIC_OR_PARTITION for a named unknown topic; v0 with no topics lists all")
    func metadataTopicLists() async throws {
        let unknown = try await harness.metadata(["missing"]).only("Topics")
        #expect(unknown.error() == KafkaErrorCode.unknownTopicOrPartition.rawValue)
        #expect(unknown.string("Name") == "missing")

        let all = try await harness.call(KafkaAPI.metadata, 0, ["Topics": []])
        #expect(all.structs("Topics").map { $0.string("Name") } == ["audit", "orders"])
        #expect(all.structs("Topics").map { $0.structs("Partitions").count } == [2, 1])
        // From v1 an empty list asks for no topic (null asks for all).
        #expect(try await harness.call(KafkaAPI.metadata, 1, ["Topics": []]).structs("Topics").isEmpty)
    }

    @Test("Produce v3+ appends and answers consecutive base offsets")
    func produceBaseOffsets() async throws {
        var offsets: [Int64] = []
        for (index, version) in [3, 5, 7, 9, 11].enumerated() {
            let answer = try #require(
                try await harness.produce("orders", produced([1], prefix: "v\(index)-"), version: Int16(version))
            )
            #expect(answer.error() == 0)
            offsets.append(answer.int("BaseOffset"))
        }
        let pair = try #require(try await harness.produce("orders", produced([1, 2], prefix: "pair-")))
        #expect(offsets == [0, 1, 2, 3, 4])
        #expect(pair.int("BaseOffset") == 5)
        let next = try #require(try await harness.produce("orders", produced([1], prefix: "last-")))
        #expect(next.int("BaseOffset") == 7)
    }

    @Test("Produce with acks 0 answers nothing, acks 2 is INVALID_REQUIRED_ACKS, a bad CRC is CORRUPT_MESSAGE")
    func produceRefusals() async throws {
        #expect(try await harness.produce("orders", produced([1]), acks: 0) == nil)
        let invalidAcks = try #require(try await harness.produce("orders", produced([1]), acks: 2))
        #expect(invalidAcks.error() == KafkaErrorCode.invalidRequiredAcks.rawValue)

        var corrupted = produced([1, 2])
        let crc = RecordBatch.Field.crc
        corrupted.setInteger(~corrupted.getInteger(at: crc, as: UInt8.self)!, at: crc)
        let corrupt = try #require(try await harness.produce("orders", corrupted))
        #expect(corrupt.error() == KafkaErrorCode.corruptMessage.rawValue)
        #expect(corrupt.int("BaseOffset") == -1)
        // Only the acks 0 record was appended.
        let partition = try await harness.fetch("orders").only("Responses").only("Partitions")
        #expect(partition.int("HighWatermark") == 1)
    }

    @Test("Fetch v0-v3 returns message formats 0 and 1, Fetch v4+ record batches (magic 2)")
    func fetchMessageFormats() async throws {
        _ = try await harness.produce("orders", produced([1, 2], prefix: "m"))
        for (version, magic) in [(0, 0), (1, 0), (2, 1), (3, 1), (4, 2), (11, 2), (12, 2)] as [(Int16, Int8)] {
            let partition = try await harness.fetch("orders", version: version).only("Responses").only("Partitions")
            #expect(partition.error() == 0)
            let records = try #require(partition["Records"].bytes)
            #expect(records.firstMagic == magic, "Fetch v\(version)")
        }
    }

    @Test("Fetch beyond the log end offset answers OFFSET_OUT_OF_RANGE")
    func fetchOutOfRange() async throws {
        _ = try await harness.produce("orders", produced([1]))
        let partition = try await harness.fetch("orders", offset: 5).only("Responses").only("Partitions")
        #expect(partition.error() == KafkaErrorCode.offsetOutOfRange.rawValue)
        let end = try await harness.fetch("orders", offset: 1, maxWaitMs: 0).only("Responses").only("Partitions")
        #expect(end.error() == 0)
    }

    @Test("A long-polled Fetch on an empty partition returns as soon as a Produce appends, with the record")
    func longPollReturnsOnAppend() async throws {
        let harness = harness
        // MaxWaitMs is a minute: a Fetch that ended at its deadline would miss the test's
        // 30 s allowance (generous, for a loaded machine), and would not carry the record.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                let answer = try await withDeadline(.seconds(30), "the long-polled Fetch") {
                    try await harness.fetch("orders", maxWaitMs: 60_000)
                }
                let partition = try answer.only("Responses").only("Partitions")
                #expect(try values(#require(partition["Records"].bytes)) == ["p0"])
            }
            try await waitUntil("the Fetch waits for data", within: .seconds(30)) {
                harness.broker.state.withLock { !$0.fetchWaiters.isEmpty }
            }
            #expect(try await harness.produce("orders", produced([1]))?.error() == 0)
            try await group.waitForAll()
        }
    }

    @Test("Fetch v7+ naming a fetch session answers FETCH_SESSION_ID_NOT_FOUND; a full fetch closing one does not")
    func fetchSessions() async throws {
        for version: Int16 in [7, 12, 17] {
            let answer = try await harness.fetch("orders", version: version, session: (42, 1))
            #expect(answer.error() == KafkaErrorCode.fetchSessionIDNotFound.rawValue)
            #expect(answer.structs("Responses").isEmpty)
            // Epoch 0 is a full fetch: Kafka closes the named session and serves it.
            let full = try await harness.fetch("orders", version: min(version, 12), session: (42, 0))
            #expect(full.error() == 0)
            #expect(full.int("SessionId") == 0)
            #expect(try full.only("Responses").only("Partitions").error() == 0)
        }
    }

    /// ListOffsets of partition 0 of `orders` for `timestamp`: the partition's answer.
    private func listOffsets(_ version: Int16, _ timestamp: Int64, count: Int64 = 1) async throws -> KafkaStruct {
        let partition: KafkaStruct = ["PartitionIndex": 0, "Timestamp": .int(timestamp), "MaxNumOffsets": .int(count)]
        let topic: KafkaStruct = ["Name": "orders", "Partitions": [.structure(partition)]]
        let answer = try await harness.call(
            KafkaAPI.listOffsets,
            version,
            ["ReplicaId": -1, "Topics": [.structure(topic)]]
        )
        return try answer.only("Topics").only("Partitions")
    }

    @Test("ListOffsets v0 answers old-style offsets, v1+ an offset and timestamp, v4+ their leader epoch")
    func listOffsetsVersions() async throws {
        _ = try await harness.produce("orders", produced([1_000, 3_000, 2_000]))
        #expect(try await listOffsets(0, -2, count: 5)["OldStyleOffsets"] == [0])
        #expect(try await listOffsets(0, -1, count: 1)["OldStyleOffsets"] == [3])
        #expect(try await listOffsets(0, -1, count: 5)["OldStyleOffsets"] == [3, 0])
        for version: Int16 in [1, 4, 9] {
            let earliest = try await listOffsets(version, -2)
            let latest = try await listOffsets(version, -1)
            let byTime = try await listOffsets(version, 1_500)
            let after = try await listOffsets(version, 9_000)
            #expect([earliest, latest, byTime, after].allSatisfy { $0.error() == 0 })
            #expect([earliest, latest, byTime, after].map { $0.int("Offset") } == [0, 3, 1, -1])
            #expect([earliest, latest, byTime, after].map { $0.int("Timestamp") } == [-1, -1, 3_000, -1])
            if version >= 4 {
                #expect([earliest, latest, byTime, after].map { $0.int("LeaderEpoch") } == [0, 0, 0, -1])
            }
        }
    }

    @Test("OffsetForLeaderEpoch for epoch 0 answers the log end offset")
    func offsetForLeaderEpoch() async throws {
        _ = try await harness.produce("orders", produced([1, 2, 3]))
        for version: Int16 in [1, 3, 4] {
            let partition: KafkaStruct = ["Partition": 0, "CurrentLeaderEpoch": -1, "LeaderEpoch": 0]
            let answer = try await harness.call(
                KafkaAPI.offsetForLeaderEpoch,
                version,
                ["ReplicaId": -1, "Topics": [.structure(["Topic": "orders", "Partitions": [.structure(partition)]])]]
            )
            let result = try answer.only("Topics").only("Partitions")
            #expect(result.error() == 0)
            #expect(result.int("EndOffset") == 3)
            #expect(result.int("LeaderEpoch") == 0)
        }
    }
}
