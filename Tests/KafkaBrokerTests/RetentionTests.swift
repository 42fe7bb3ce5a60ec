import KafkaBroker
import KafkaProtocol
import KafkaRecords
import NIOCore
import Testing

@Suite(.timeLimit(.minutes(10))) struct RetentionTests {
    @Test func theOldestBatchesGoWhenTheBudgetIsExceeded() throws {
        let size = produced([0]).readableBytes
        var log = PartitionLog(retentionBytes: size * 3)
        for index in 0..<5 { _ = try log.append(produced([Int64(index)]), produceVersion: 9, now: 0) }
        #expect(log.batchCount == 3)
        #expect(log.sizeInBytes == size * 3)
        #expect(log.logStartOffset == 2 && log.logEndOffset == 5)
        #expect(
            recordsError { _ = try log.read(from: 1, maxBytes: 1 << 20, minOneBatch: true) }?.code == .offsetOutOfRange
        )
        #expect(try log.read(from: 2, maxBytes: 1 << 20, minOneBatch: true).batches.first?.baseOffset == 2)
        #expect(log.listOffsets(timestamp: ListOffsetsTarget.earliest).offset == 2)
    }

    @Test func theAppendAnswersTheNewLogStartOffset() throws {
        let size = produced([0]).readableBytes
        var log = PartitionLog(retentionBytes: size)
        _ = try log.append(produced([0]), produceVersion: 9, now: 0)
        let result = try log.append(produced([1]), produceVersion: 9, now: 0)
        #expect(result.logStartOffset == 1)
    }

    @Test func loweringTheBudgetAppliesAtOnceAndKeepsTheNewestBatch() throws {
        var log = PartitionLog()
        for index in 0..<4 { _ = try log.append(produced([Int64(index)]), produceVersion: 9, now: 0) }
        #expect(log.batchCount == 4)
        let sequence = log.appendSequence
        log.retentionBytes = 0
        #expect(log.batchCount == 1 && log.logStartOffset == 3)
        #expect(log.appendSequence != sequence)
    }

    @Test func deleteRecordsMovesTheStartInsideABatch() throws {
        var log = PartitionLog()
        _ = try log.append(produced([1, 2, 3]), produceVersion: 9, now: 0)
        _ = try log.append(produced([4, 5]), produceVersion: 9, now: 0)
        let start = try log.deleteRecords(before: 4)
        #expect(start == 4)
        #expect(log.batchCount == 1 && log.logStartOffset == 4)
        #expect(try log.read(from: 4, maxBytes: 1, minOneBatch: true).batches.first?.baseOffset == 3)
        #expect(recordsError { try log.deleteRecords(before: 6) }?.code == .offsetOutOfRange)
        let unchanged = try log.deleteRecords(before: 2)
        #expect(unchanged == 4)  // never backwards
    }

    @Test("the broker's retention budget applies to the topics it creates, and to partitions added later")
    func theBrokerBudgetReachesItsTopics() async throws {
        let size = produced([0]).readableBytes
        var configuration = KafkaBrokerConfiguration()
        configuration.retentionBytes = size * 2
        let harness = BrokerHarness(configuration: configuration, topics: ["org.runs": 1])
        harness.broker.createTopic("org.runs", partitions: 2)  // grows it: the new partition too
        for partition: Int32 in [0, 1] {
            for index in 0..<5 {
                let answer = try #require(
                    try await harness.produce("org.runs", partition: partition, produced([Int64(index)]))
                )
                #expect(answer.error() == 0)
            }
            // Six batches produced, two kept: the log starts at offset 4.
            let last = try #require(try await harness.produce("org.runs", partition: partition, produced([5])))
            #expect(last.int("LogStartOffset") == 4, "partition \(partition)")
        }
    }
}
