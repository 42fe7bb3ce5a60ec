import PortKafka
import TestSupport
import Testing

@Suite("Kafka through the embedded cluster", .heavy, .timeLimit(.minutes(10)))
struct KafkaRoundTripTests {
    @Test("produced messages reach a group consumer from all three partitions with keys and headers intact")
    func roundTripAcrossThreePartitions() async throws {
        let cluster = try EmbeddedKafkaCluster.start(brokers: 3, logger: quietLogger)
        defer { cluster.shutdown() }
        try cluster.createTopic("org.runs", partitions: 3)
        let producer = try makeProducer(cluster)

        var sent: [String: KafkaProducerMessage] = [:]
        for index in 0..<30 {
            let message = KafkaProducerMessage(
                topic: "org.runs",
                partition: Int32(index % 3),
                key: "r_\(index)",
                value: #"{"runId":"r_\#(index)","n":\#(index)}"#,
                headers: [
                    KafkaHeader(key: "X-Port-Timestamp", string: "17000000\(index)"),
                    KafkaHeader(key: "empty", value: nil),
                ]
            )
            let report = try await producer.send(message)
            #expect(report.partition == Int32(index % 3))
            sent["r_\(index)"] = message
        }
        try await producer.send(KafkaProducerMessage(topic: "org.runs", partition: 1, key: "tombstone", value: nil))

        let consumer = try makeConsumer(cluster, group: "org.round-trip", topics: ["org.runs"])
        let received = try await read(31, from: consumer)
        await consumer.close()
        await producer.close()

        #expect(Set(received.map(\.partition)) == [0, 1, 2])
        #expect(Set(received.map(\.position)).count == 31)
        for message in received where message.keyString != "tombstone" {
            let key = try #require(message.keyString)
            let original = try #require(sent[key])
            #expect(message.value == original.value)
            #expect(message.headers == original.headers)
            #expect(message.partition == original.partition)
        }
        let tombstone = try #require(received.first { $0.keyString == "tombstone" })
        #expect(tombstone.value == nil)
        #expect(tombstone.valueString == nil)
    }

    @Test("a new member of the group resumes right after the last committed offset, nothing lost or repeated")
    func commitThenResume() async throws {
        let cluster = try EmbeddedKafkaCluster.start(logger: quietLogger)
        defer { cluster.shutdown() }
        try cluster.createTopic("org.commits", partitions: 3)
        let producer = try makeProducer(cluster)
        for index in 0..<30 {
            try await producer.send(KafkaProducerMessage(topic: "org.commits", key: "k\(index)", value: "v\(index)"))
        }

        let first = try makeConsumer(cluster, group: "org.resume", topics: ["org.commits"])
        let handled = try await read(12, from: first, commitEach: true)
        await first.close()

        let second = try makeConsumer(cluster, group: "org.resume", topics: ["org.commits"])
        let rest = try await read(18, from: second)
        // One sentinel per partition: everything before it has been read, so an extra
        // (repeated) message would show up ahead of the sentinels.
        for partition in Int32(0)..<3 {
            try await producer.send(
                KafkaProducerMessage(topic: "org.commits", partition: partition, key: "sentinel", value: "end")
            )
        }
        let tail = try await read(3, from: second)
        await second.close()
        await producer.close()

        #expect(tail.allSatisfy { $0.keyString == "sentinel" })
        let handledValues = Set(handled.compactMap(\.valueString))
        let restValues = Set(rest.compactMap(\.valueString))
        #expect(handledValues.count == 12)
        #expect(restValues.count == 18)
        #expect(handledValues.isDisjoint(with: restValues))
        #expect(handledValues.union(restValues) == Set((0..<30).map { "v\($0)" }))
        // Within each partition the second member starts exactly after the first one's last commit.
        for partition in Int32(0)..<3 {
            let lastHandled = handled.filter { $0.partition == partition }.map(\.offset).max() ?? -1
            let firstResumed = rest.filter { $0.partition == partition }.map(\.offset).min()
            if let firstResumed { #expect(firstResumed == lastHandled + 1) }
        }
    }

    @Test("two members of one group split the partitions and each message reaches exactly one of them")
    func twoMembersShareThePartitions() async throws {
        let cluster = try EmbeddedKafkaCluster.start(logger: quietLogger)
        defer { cluster.shutdown() }
        try cluster.createTopic("org.shared", partitions: 4)
        let producer = try makeProducer(cluster)
        let members = [
            try makeConsumer(cluster, group: "org.share", topics: ["org.shared"]),
            try makeConsumer(cluster, group: "org.share", topics: ["org.shared"]),
        ]
        let collected = MessageCollector()
        let readers = members.enumerated().map { index, member in
            Task {
                for try await message in member.messages {
                    await collected.add(message, member: index)
                    try await member.commit(message)
                }
            }
        }

        try await waitUntil("both members to hold two partitions each") {
            let assignments = try members.map { try $0.assignment() }
            return assignments.allSatisfy { $0.count == 2 } && Set(assignments.flatMap { $0 }).count == 4
        }
        let assignments = try members.map { Set(try $0.assignment().map(\.partition)) }

        for index in 0..<60 {
            try await producer.send(
                KafkaProducerMessage(
                    topic: "org.shared",
                    partition: Int32(index % 4),
                    key: "k\(index)",
                    value: "v\(index)"
                )
            )
        }
        try await waitUntil("all 60 messages to be read") { await collected.count == 60 }
        for member in members { await member.close() }
        for reader in readers { _ = try await reader.value }
        await producer.close()

        let byMember = await collected.byMember
        let all = byMember.values.flatMap { $0 }
        #expect(all.count == 60)
        #expect(Set(all.compactMap(\.valueString)) == Set((0..<60).map { "v\($0)" }))
        for (member, messages) in byMember {
            #expect(!messages.isEmpty)
            #expect(Set(messages.map(\.partition)).isSubset(of: assignments[member]))
        }
    }
}

/// Gathers messages read concurrently by several group members.
actor MessageCollector {
    private(set) var byMember: [Int: [KafkaConsumerMessage]] = [:]
    var count: Int { byMember.values.reduce(0) { $0 + $1.count } }

    func add(_ message: KafkaConsumerMessage, member: Int) {
        byMember[member, default: []].append(message)
    }
}
