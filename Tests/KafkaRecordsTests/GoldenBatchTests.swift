import KafkaProtocol
import KafkaRecords
import NIOCore
import Testing

@Suite(.timeLimit(.minutes(10))) struct GoldenBatchTests {
    @Test func builderWritesTheSpecifiedBytes() throws {
        var builder = RecordBatchBuilder(baseOffset: 0)
        builder.append(
            timestamp: Golden.baseTimestamp,
            key: nil,
            value: buffer(utf8("v1")),
            headers: [RecordHeader(key: "h", value: "x")]
        )
        builder.append(
            timestamp: Golden.baseTimestamp + 5,
            key: buffer(utf8("k2")),
            value: nil,
            headers: [RecordHeader(key: "a", value: "b"), RecordHeader(key: "c", value: nil)]
        )
        let batch = try #require(builder.build())
        #expect(batch.buffer.bytes == Golden.producerBatch)
        #expect(batch.sizeInBytes == 90)
        #expect(batch.crc == 0x6686_0652)
        #expect(batch.computeCRC() == 0x6686_0652)
        #expect(CRC32C.checksum(Array(Golden.producerBatch[21...])) == 0x6686_0652)
    }

    @Test func headerFieldsParse() throws {
        let batch = try RecordBatch(bytes: buffer(Golden.producerBatch))
        #expect(batch.baseOffset == 0)
        #expect(batch.batchLength == 78)
        #expect(batch.partitionLeaderEpoch == -1)
        #expect(batch.magic == 2)
        #expect(batch.isValid)
        #expect(batch.compression == CompressionCodec.none)
        #expect(batch.timestampType == .createTime)
        #expect(!batch.isTransactional && !batch.isControl)
        #expect(batch.lastOffsetDelta == 1)
        #expect(batch.baseTimestamp == Golden.baseTimestamp)
        #expect(batch.maxTimestamp == Golden.baseTimestamp + 5)
        #expect(batch.producerId == -1 && batch.producerEpoch == -1 && batch.baseSequence == -1)
        #expect(batch.recordCount == 2)
        #expect(!batch.hasProducerId)
    }

    @Test func recordsParseOnDemand() throws {
        let records = try RecordBatch(bytes: buffer(Golden.producerBatch)).records()
        #expect(records.count == 2)
        #expect(records[0].offset == 0 && records[1].offset == 1)
        #expect(records[0].timestamp == Golden.baseTimestamp && records[1].timestamp == Golden.baseTimestamp + 5)
        #expect(records[0].key == nil)
        #expect(records[0].value.map { String(buffer: $0) } == "v1")
        #expect(records[0].headers == [RecordHeader(key: "h", value: "x")])
        #expect(records[1].key.map { String(buffer: $0) } == "k2")
        #expect(records[1].value == nil)
        #expect(records[1].headers.map(\.keyString) == ["a", "c"])
        #expect(records[1].headers[1].value == nil)
        #expect(records[0].sizeInBytes == 13 && records[1].sizeInBytes == 16)
    }

    @Test func offsetAndEpochRewritesKeepTheCRCValid() throws {
        var batch = try RecordBatch(bytes: buffer(Golden.producerBatch))
        batch.setBaseOffset(1_000)
        batch.setPartitionLeaderEpoch(7)
        #expect(batch.crc == 0x6686_0652)
        #expect(batch.isValid)
        #expect(batch.lastOffset == 1_001)
        #expect(try batch.records().map(\.offset) == [1_000, 1_001])
    }

    @Test func maxTimestampRewriteRecomputesTheCRC() throws {
        var batch = try RecordBatch(bytes: buffer(Golden.producerBatch))
        batch.setMaxTimestamp(.createTime, Golden.baseTimestamp + 5)
        #expect(batch.crc == 0x6686_0652)  // unchanged: nothing to rewrite
        batch.setMaxTimestamp(.logAppendTime, 42)
        #expect(batch.timestampType == .logAppendTime)
        #expect(batch.maxTimestamp == 42)
        #expect(batch.isValid)
        #expect(batch.crc != 0x6686_0652)
        #expect(try batch.records().map(\.timestamp) == [42, 42])  // LogAppendTime: every record has it
    }

    @Test func crcMismatchIsDetected() throws {
        var bytes = Golden.producerBatch
        bytes[bytes.count - 1] ^= 0x01
        #expect(!(try RecordBatch(bytes: buffer(bytes)).isValid))
    }

    @Test func gzipBatchRoundTrips() throws {
        var builder = RecordBatchBuilder(baseOffset: 0)
        builder.compression = .gzip
        for index in 0..<50 {
            builder.append(timestamp: 1_000 + Int64(index), key: nil, value: buffer(utf8("value \(index)")))
        }
        let batch = try #require(builder.build())
        #expect(batch.compression == .gzip)
        #expect(batch.isValid)
        #expect(Array(batch.recordsPayload.bytes.prefix(3)) == [0x1F, 0x8B, 0x08])
        let records = try batch.records()
        #expect(records.count == 50)
        #expect(records[49].value.map { String(buffer: $0) } == "value 49")
        #expect(batch.maxTimestamp == 1_049)
    }

    @Test func recordCountMustMatchTheRecords() throws {
        var bytes = Golden.producerBatch
        bytes[60] = 3  // recordCount 3 with two records
        var batch = try RecordBatch(bytes: buffer(bytes))
        batch.setCRC()
        #expect(recordsError { _ = try batch.records() }?.code == .invalidRecord)
        bytes[60] = 1  // recordCount 1: a record left over
        batch = try RecordBatch(bytes: buffer(bytes))
        #expect(recordsError { _ = try batch.records() }?.message.contains("remaining") == true)
    }
}

extension RecordBatch {
    /// Recomputes the stored CRC after a test edits the bytes.
    mutating func setCRC() {
        var bytes = buffer
        bytes.setInteger(computeCRC(), at: bytes.readerIndex + Field.crc)
        self = try! RecordBatch(bytes: bytes)
    }
}
