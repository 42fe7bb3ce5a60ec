import KafkaBroker
import KafkaProtocol
import KafkaRecords
import NIOCore
import Testing

@Suite(.timeLimit(.minutes(10))) struct ListOffsetsTests {
    /// Offsets 0–2 at 100, 300, 200 (epoch 1); offsets 3–4 at 400, 400 (epoch 2).
    private func sampleLog() throws -> PartitionLog {
        var log = PartitionLog(leaderEpoch: 1)
        _ = try log.append(produced([100, 300, 200]), produceVersion: 9, now: 0)
        log.leaderEpoch = 2
        _ = try log.append(produced([400, 400]), produceVersion: 9, now: 0)
        return log
    }

    @Test func earliestAndLatest() throws {
        let log = try sampleLog()
        #expect(
            log.listOffsets(timestamp: ListOffsetsTarget.earliest)
                == OffsetLookup(timestamp: -1, offset: 0, leaderEpoch: 1)
        )
        #expect(
            log.listOffsets(timestamp: ListOffsetsTarget.latest)
                == OffsetLookup(timestamp: -1, offset: 5, leaderEpoch: 2)
        )
        #expect(log.listOffsets(timestamp: ListOffsetsTarget.earliestLocal).offset == 0)
        #expect(log.listOffsets(timestamp: ListOffsetsTarget.latestTiered) == .notFound)
    }

    @Test func emptyLogs() {
        let log = PartitionLog(leaderEpoch: 3)
        #expect(
            log.listOffsets(timestamp: ListOffsetsTarget.earliest)
                == OffsetLookup(timestamp: -1, offset: 0, leaderEpoch: 3)
        )
        #expect(
            log.listOffsets(timestamp: ListOffsetsTarget.latest)
                == OffsetLookup(timestamp: -1, offset: 0, leaderEpoch: 3)
        )
        #expect(log.listOffsets(timestamp: ListOffsetsTarget.maxTimestamp) == .notFound)
        #expect(log.listOffsets(timestamp: 0) == .notFound)
    }

    @Test func byTimestampFindsTheFirstRecordAtOrAfterIt() throws {
        let log = try sampleLog()
        #expect(log.listOffsets(timestamp: 0) == OffsetLookup(timestamp: 100, offset: 0, leaderEpoch: 1))
        #expect(log.listOffsets(timestamp: 100) == OffsetLookup(timestamp: 100, offset: 0, leaderEpoch: 1))
        // 150: offset 1 (300) comes before offset 2 (200) and is the first at or after it.
        #expect(log.listOffsets(timestamp: 150) == OffsetLookup(timestamp: 300, offset: 1, leaderEpoch: 1))
        #expect(log.listOffsets(timestamp: 301) == OffsetLookup(timestamp: 400, offset: 3, leaderEpoch: 2))
        #expect(log.listOffsets(timestamp: 401) == .notFound)
    }

    @Test func maxTimestampIsTheFirstRecordWithTheGreatestTimestamp() throws {
        var log = try sampleLog()
        #expect(
            log.listOffsets(timestamp: ListOffsetsTarget.maxTimestamp)
                == OffsetLookup(timestamp: 400, offset: 3, leaderEpoch: 2)
        )
        _ = try log.append(produced([50]), produceVersion: 9, now: 0)
        #expect(log.listOffsets(timestamp: ListOffsetsTarget.maxTimestamp).offset == 3)
    }

    @Test func logAppendTimeRecordsHaveTheAppendTime() throws {
        var log = PartitionLog(config: AppendConfig(timestampType: .logAppendTime))
        _ = try log.append(produced([1, 2]), produceVersion: 9, now: 1_000)
        _ = try log.append(produced([3]), produceVersion: 9, now: 2_000)
        #expect(log.listOffsets(timestamp: 1_500) == OffsetLookup(timestamp: 2_000, offset: 2, leaderEpoch: 0))
        #expect(
            log.listOffsets(timestamp: ListOffsetsTarget.maxTimestamp)
                == OffsetLookup(timestamp: 2_000, offset: 2, leaderEpoch: 0)
        )
    }

    @Test func searchesStartAtTheLogStartOffset() throws {
        var log = try sampleLog()
        try log.deleteRecords(before: 1)
        #expect(log.listOffsets(timestamp: 0) == OffsetLookup(timestamp: 300, offset: 1, leaderEpoch: 1))
        #expect(log.listOffsets(timestamp: ListOffsetsTarget.earliest).offset == 1)
    }
}
