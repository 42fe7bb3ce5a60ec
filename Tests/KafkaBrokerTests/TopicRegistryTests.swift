import KafkaProtocol
import KafkaRecords
import NIOCore
import Testing

@testable import KafkaBroker

@Suite(.timeLimit(.minutes(10))) struct TopicRegistryTests {
    @Test func sha256KnownVectors() {
        func hex(_ text: String) -> String {
            SHA256.hash(Array(text.utf8)).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        }
        #expect(hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            hex(String(repeating: "a", count: 1_000))
                == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"
        )
    }

    @Test func topicIDsAreStableAcrossCallsAndRuns() {
        let id = TopicID(topic: "orders")
        #expect(id == TopicID(topic: "orders"))
        // Pinned: the same value on every run and every machine.
        #expect(id.uuidString == "896ecba3-4670-85d0-bfda-d4ee4e6eff36")
        #expect(id.description == "iW7Lo0ZwhdC_2tTuTm7_Ng")
        #expect(TopicID(topic: "__consumer_offsets").description == "F3bakMHhhyy9ngU-FggY-w")
        #expect(TopicID(topic: "orders", incarnation: 1).uuidString == "6a1450aa-8688-87da-b158-61bcdbe0ecce")
    }

    @Test func topicIDsAreWellFormed() {
        for index in 0..<2_000 {
            let id = TopicID(topic: "topic-\(index)")
            let bytes = id.bytes
            #expect(bytes.count == 16)
            #expect(bytes[6] >> 4 == 8)  // version 8
            #expect(bytes[8] >> 6 == 0b10)  // RFC variant
            #expect(id != .zero && id != .metadataTopic)
            #expect(id.description.count == 22 && !id.description.hasPrefix("-"))
        }
        var wire = ByteBuffer()
        TopicID(topic: "orders").write(to: &wire)
        #expect(Array(wire.readableBytesView) == TopicID(topic: "orders").bytes)
    }

    @Test func registryCreatesFindsAndDeletes() throws {
        var registry = TopicRegistry()
        let first = registry.createTopic("orders", partitions: 3)
        let created = try #require(first)
        #expect(created.id == TopicID(topic: "orders"))
        let duplicate = registry.createTopic("orders", partitions: 1)
        #expect(duplicate == nil)
        #expect(registry["orders"]?.partitions.count == 3)
        #expect(registry.topic(id: created.id)?.name == "orders")
        #expect(registry.names == ["orders"])
        let grew = registry.addPartitions("orders", totalCount: 5)
        let shrank = registry.addPartitions("orders", totalCount: 2)
        #expect(grew && !shrank)
        #expect(registry["orders"]?.partitions.count == 5)
        let deleted = registry.deleteTopic("orders")
        #expect(deleted)
        #expect(registry["orders"] == nil && registry.topic(id: created.id) == nil)
        // Re-created after a deletion: a new id, as Kafka gives.
        let recreated = registry.createTopic("orders", partitions: 1)
        let again = try #require(recreated)
        #expect(again.id != created.id)
    }

    @Test func partitionsAreAppendedToInPlace() throws {
        var registry = TopicRegistry()
        registry.createTopic("events", partitions: 2)
        let result = try registry.withPartition("events", 1) { (log: inout PartitionLog) throws(RecordsError) in
            try log.append(produced([1, 2]), produceVersion: 9, now: 0)
        }
        #expect(result?.baseOffset == 0)
        #expect(registry["events"]?.partitions[1].logEndOffset == 2)
        #expect(registry["events"]?.partitions[0].logEndOffset == 0)
        let outOfRange = registry.withPartition("events", 2) { $0.logEndOffset }
        let missing = registry.withPartition("missing", 0) { $0.logEndOffset }
        #expect(outOfRange == nil && missing == nil)
        let configured = registry.setConfig("events", AppendConfig(compacted: true))
        #expect(configured)
        #expect(registry["events"]?.partitions[1].config.compacted == true)
    }
}
