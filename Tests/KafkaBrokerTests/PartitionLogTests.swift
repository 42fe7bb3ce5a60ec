import KafkaBroker
import KafkaProtocol
import KafkaRecords
import NIOCore
import Testing

@Suite(.timeLimit(.minutes(10))) struct PartitionLogTests {
    @Test func appendsGetConsecutiveOffsets() throws {
        var log = PartitionLog(leaderEpoch: 2)
        let first = try log.append(produced([10, 11, 12]), produceVersion: 9, now: 100)
        let second = try log.append(produced([13, 14]), produceVersion: 9, now: 101)
        #expect(first.baseOffset == 0 && first.lastOffset == 2 && first.recordCount == 3)
        #expect(second.baseOffset == 3 && second.lastOffset == 4)
        #expect(first.logAppendTime == -1 && second.logStartOffset == 0)
        #expect(log.logEndOffset == 5 && log.highWatermark == 5 && log.lastStableOffset == 5)
        #expect(log.batchCount == 2)
        let read = try log.read(from: 0, maxBytes: 1 << 20, minOneBatch: false)
        #expect(read.batches.map(\.partitionLeaderEpoch) == [2, 2])
        #expect(read.batches.allSatisfy { $0.isValid })
    }

    @Test func theAppendSequenceMovesOnEveryAppend() throws {
        var log = PartitionLog()
        let start = log.appendSequence
        _ = try log.append(produced([1]), produceVersion: 9, now: 0)
        #expect(log.appendSequence == start + 1)
        _ = recordsError { _ = try log.append(ByteBuffer(bytes: [1, 2, 3]), produceVersion: 9, now: 0) }
        #expect(log.appendSequence == start + 1)  // a refused append changes nothing
        _ = try log.append(produced([2]), produceVersion: 9, now: 0)
        #expect(log.appendSequence == start + 2)
    }

    @Test func refusedAppendsLeaveTheLogAsItWas() throws {
        var log = PartitionLog()
        _ = try log.append(produced([1]), produceVersion: 9, now: 0)
        var corrupt = produced([2]).readableBytesView.map { $0 }
        corrupt[corrupt.count - 1] ^= 1
        let error = recordsError { _ = try log.append(ByteBuffer(bytes: corrupt), produceVersion: 9, now: 0) }
        #expect(error?.code == .corruptMessage)
        #expect(log.logEndOffset == 1 && log.batchCount == 1)
    }

    @Test func readsReturnTheWholeBatchHoldingTheOffset() throws {
        var log = PartitionLog()
        _ = try log.append(produced([1, 2, 3]), produceVersion: 9, now: 0)  // 0–2
        _ = try log.append(produced([4, 5]), produceVersion: 9, now: 0)  // 3–4
        let inside = try log.read(from: 1, maxBytes: 1 << 20, minOneBatch: false)
        #expect(inside.batches.map(\.baseOffset) == [0, 3])
        #expect(inside.fetchOffset == 1)
        let second = try log.read(from: 4, maxBytes: 1 << 20, minOneBatch: false)
        #expect(second.batches.map(\.baseOffset) == [3])
        #expect(second.records.readableBytes == second.batches[0].sizeInBytes)
        #expect(try RecordSet.batches(inside.records).map(\.baseOffset) == [0, 3])
    }

    @Test func maxBytesLimitsWholeBatches() throws {
        var log = PartitionLog()
        for index in 0..<4 { _ = try log.append(produced([Int64(index)]), produceVersion: 9, now: 0) }
        let size = try log.read(from: 0, maxBytes: 1 << 20, minOneBatch: false).batches[0].sizeInBytes
        #expect(try log.read(from: 0, maxBytes: size * 2 + 5, minOneBatch: false).batches.count == 2)
        #expect(try log.read(from: 0, maxBytes: size * 2, minOneBatch: false).batches.count == 2)
        // A first batch larger than maxBytes: nothing, unless at least one batch is wanted (KIP-74).
        #expect(try log.read(from: 0, maxBytes: size - 1, minOneBatch: false).batches.isEmpty)
        #expect(try log.read(from: 0, maxBytes: size - 1, minOneBatch: true).batches.count == 1)
        #expect(try log.read(from: 0, maxBytes: 0, minOneBatch: true).batches.count == 1)
        #expect(try log.read(from: 2, maxBytes: size, minOneBatch: true).batches.map(\.baseOffset) == [2])
    }

    @Test func offsetsOutsideTheLogAreOutOfRange() throws {
        var log = PartitionLog()
        _ = try log.append(produced([1, 2]), produceVersion: 9, now: 0)
        #expect(recordsError { _ = try log.read(from: 3, maxBytes: 100, minOneBatch: true) }?.code == .offsetOutOfRange)
        #expect(
            recordsError { _ = try log.read(from: -1, maxBytes: 100, minOneBatch: true) }?.code == .offsetOutOfRange
        )
        let end = try log.read(from: 2, maxBytes: 100, minOneBatch: true)
        #expect(end.batches.isEmpty && end.highWatermark == 2 && end.logStartOffset == 0)
    }

    @Test func oldFetchesAreDownConverted() throws {
        var log = PartitionLog()
        _ = try log.append(produced([1_000, 1_001]), produceVersion: 9, now: 0)
        let read = try log.read(from: 1, maxBytes: 1 << 20, minOneBatch: true)
        #expect(try read.records(forFetchVersion: 4) == read.records)
        let v1 = try read.records(forFetchVersion: 3)
        let entries = try RecordSet.shallowBatches(v1)
        #expect(entries.count == 1)  // offset 0 is below the fetch offset; the padding is partial
        guard case .legacy(let message) = entries.first else { throw RecordsError.invalid("expected a legacy message") }
        #expect(message.offset == 1 && message.magic == 1 && message.timestamp == 1_001 && message.isValid)
        #expect(v1.readableBytes == read.sizeInBytes)
        let v0 = try read.records(forFetchVersion: 0)
        #expect(try RecordSet.shallowBatches(v0).first?.magic == 0)
    }

    @Test func legacyProducesAreStoredAsV2() throws {
        var log = PartitionLog()
        var input = ByteBuffer()
        LegacyMessage.write(
            offset: 0,
            magic: 1,
            timestampType: .createTime,
            timestamp: 9,
            key: nil,
            value: ByteBuffer(string: "a"),
            to: &input
        )
        LegacyMessage.write(
            offset: 0,
            magic: 1,
            timestampType: .createTime,
            timestamp: 8,
            key: nil,
            value: ByteBuffer(string: "b"),
            to: &input
        )
        let result = try log.append(input, produceVersion: 2, now: 0)
        #expect(result.baseOffset == 0 && result.lastOffset == 1)
        let batch = try #require(try log.read(from: 0, maxBytes: 1 << 20, minOneBatch: true).batches.first)
        #expect(batch.magic == 2 && batch.maxTimestamp == 9 && batch.isValid)
    }

    @Test func logAppendTimeTopicsAnswerTheAppendTime() throws {
        var log = PartitionLog(config: AppendConfig(timestampType: .logAppendTime))
        let result = try log.append(produced([1, 2]), produceVersion: 9, now: 5_000)
        #expect(result.logAppendTime == 5_000)
    }

    @Test func brokerBatchesSkipClientChecks() throws {
        var log = PartitionLog(leaderEpoch: 5)
        _ = try log.append(produced([1, 2]), produceVersion: 9, now: 0)
        var marker = RecordBatchBuilder()
        marker.isControl = true
        marker.isTransactional = true
        marker.producerId = 3
        marker.producerEpoch = 0
        marker.append(
            timestamp: 7,
            key: ByteBuffer(bytes: [0, 0, 0, 1]),
            value: ByteBuffer(bytes: [0, 0, 0, 0, 0, 5])
        )
        let appended = log.append(brokerBatch: marker)
        let result = try #require(appended)
        #expect(result.baseOffset == 2 && result.lastOffset == 2)
        let stored = try #require(try log.read(from: 2, maxBytes: 1 << 20, minOneBatch: true).batches.first)
        #expect(stored.isControl && stored.isValid && stored.partitionLeaderEpoch == 5)
        #expect(log.logEndOffset == 3)
        // Old fetches skip it.
        let v1 = try log.read(from: 0, maxBytes: 1 << 20, minOneBatch: true).records(forFetchVersion: 2)
        #expect(try RecordSet.shallowBatches(v1).count == 2)
    }
}
