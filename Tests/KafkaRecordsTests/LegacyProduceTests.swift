import KafkaProtocol
import KafkaRecords
import NIOCore
import Testing

/// A legacy produce message set built field by field (offset, size, CRC-32, magic, attributes,
/// timestamp for magic 1, key, value), with the CRC spelled as kafka-python computes it.
private let legacyProduceMagic1: [UInt8] =
    be(Int64(0))  // offset (a producer's own numbering)
    + be(Int32(28))  // message size
    + be(UInt32(0xAA1F_6779))  // CRC-32 of magic..end
    + [0x01]  // magic 1
    + [0x00]  // attributes: no compression, CreateTime
    + be(Int64(1_700_000_000_000))  // timestamp
    + be(Int32(1)) + utf8("k")  // key "k"
    + be(Int32(5)) + utf8("hello")  // value "hello"
    + be(Int64(1))  // offset
    + be(Int32(27))  // message size
    + be(UInt32(0x50B3_66E4))  // CRC-32
    + [0x01]  // magic 1
    + [0x00]  // attributes
    + be(Int64(1_700_000_000_010))  // timestamp
    + be(Int32(-1))  // key null
    + be(Int32(5)) + utf8("world")  // value "world"

/// The v2 batch Kafka stores for it when appended at offset 5 in leader epoch 3.
private let convertedBatch: [UInt8] = {
    let records: [UInt8] =
        [0x18, 0x00, 0x00, 0x00]  // length 12, attributes, timestampDelta 0, offsetDelta 0
        + [0x02] + utf8("k")  // key "k"
        + [0x0A] + utf8("hello")  // value "hello"
        + [0x00]  // no headers
        + [0x16, 0x00, 0x14, 0x02]  // length 11, attributes, timestampDelta 10, offsetDelta 1
        + [0x01]  // key null
        + [0x0A] + utf8("world")  // value "world"
        + [0x00]  // no headers
    return be(Int64(5))  // baseOffset: the log end offset
        + be(Int32(74))  // batchLength
        + be(Int32(3))  // partitionLeaderEpoch: the leader's
        + [0x02]  // magic 2
        + be(UInt32(0x8345_2D13))  // CRC-32C
        + be(Int16(0))  // attributes
        + be(Int32(1))  // lastOffsetDelta
        + be(Int64(1_700_000_000_000))  // baseTimestamp: the first record's
        + be(Int64(1_700_000_000_010))  // maxTimestamp
        + be(Int64(-1)) + be(Int16(-1)) + be(Int32(-1))  // no producer id, epoch, sequence
        + be(Int32(2))  // recordCount
        + records
}()

@Suite(.timeLimit(.minutes(10))) struct LegacyProduceTests {
    @Test func magic1MessagesBecomeOneV2Batch() throws {
        let result = try AppendValidator.validate(
            buffer(legacyProduceMagic1),
            produceVersion: 2,
            nextOffset: 5,
            leaderEpoch: 3,
            now: 1_800_000_000_000
        )
        let batch = try #require(result.batch)
        #expect(batch.buffer.bytes == convertedBatch)
        #expect(batch.isValid)
        #expect(result.firstOffset == 5 && result.lastOffset == 6)
        #expect(result.maxTimestamp == 1_700_000_000_010)
        #expect(result.logAppendTime == -1)
        #expect(result.converted)
    }

    @Test func magic0MessagesHaveNoTimestamps() throws {
        var input = ByteBuffer()
        LegacyMessage.write(
            offset: 0,
            magic: 0,
            timestampType: .noTimestampType,
            timestamp: -1,
            key: nil,
            value: buffer(utf8("a")),
            to: &input
        )
        LegacyMessage.write(
            offset: 0,
            magic: 0,
            timestampType: .noTimestampType,
            timestamp: -1,
            key: nil,
            value: buffer(utf8("b")),
            to: &input
        )
        let result = try AppendValidator.validate(input, produceVersion: 0, nextOffset: 0, leaderEpoch: 0, now: 99)
        let batch = try #require(result.batch)
        #expect(batch.baseTimestamp == -1 && batch.maxTimestamp == -1)
        #expect(try batch.records().map(\.timestamp) == [-1, -1])
        #expect(try batch.records().map(\.offset) == [0, 1])
        #expect(result.maxTimestamp == -1)
    }

    @Test func logAppendTimeTopicsStampTheAppendTime() throws {
        let result = try AppendValidator.validate(
            buffer(legacyProduceMagic1),
            produceVersion: 1,
            nextOffset: 0,
            leaderEpoch: 0,
            now: 1_800_000_000_000,
            config: AppendConfig(timestampType: .logAppendTime)
        )
        let batch = try #require(result.batch)
        #expect(batch.timestampType == .logAppendTime)
        #expect(batch.maxTimestamp == 1_800_000_000_000)
        #expect(batch.baseTimestamp == 1_700_000_000_000)  // MemoryRecordsBuilder keeps the first record's
        #expect(result.logAppendTime == 1_800_000_000_000)
        #expect(try batch.records().allSatisfy { $0.timestamp == 1_800_000_000_000 })
    }

    @Test func aCorruptMessageIsRejected() {
        var bytes = legacyProduceMagic1
        bytes[30] ^= 0xFF  // inside the first message's value
        let error = recordsError {
            _ = try AppendValidator.validate(buffer(bytes), produceVersion: 2, nextOffset: 0, leaderEpoch: 0, now: 0)
        }
        #expect(error?.code == .corruptMessage)
    }

    @Test func produceV3RequiresMagic2() {
        let error = recordsError {
            _ = try AppendValidator.validate(
                buffer(legacyProduceMagic1),
                produceVersion: 3,
                nextOffset: 0,
                leaderEpoch: 0,
                now: 0
            )
        }
        #expect(error?.code == .invalidRecord)
        #expect(error?.message.contains("magic version 2") == true)
    }

    @Test func mixedMagicsAreRejected() {
        var input = ByteBuffer()
        LegacyMessage.write(
            offset: 0,
            magic: 0,
            timestampType: .noTimestampType,
            timestamp: -1,
            key: nil,
            value: nil,
            to: &input
        )
        LegacyMessage.write(
            offset: 0,
            magic: 1,
            timestampType: .createTime,
            timestamp: 5,
            key: nil,
            value: nil,
            to: &input
        )
        let error = recordsError {
            _ = try AppendValidator.validate(input, produceVersion: 1, nextOffset: 0, leaderEpoch: 0, now: 0)
        }
        #expect(error?.code == .invalidRecord)
    }

    @Test func gzipWrapperBecomesAGzipV2Batch() throws {
        var inner = ByteBuffer()
        for (index, text) in ["x", "y", "z"].enumerated() {
            LegacyMessage.write(
                offset: Int64(index),  // relative inner offsets
                magic: 1,
                timestampType: .createTime,
                timestamp: 100 + Int64(index),
                key: nil,
                value: buffer(utf8(text)),
                to: &inner
            )
        }
        var wrapper = ByteBuffer()
        LegacyMessage.write(
            offset: 2,
            magic: 1,
            compression: .gzip,
            timestampType: .createTime,
            timestamp: 102,
            key: nil,
            value: Gzip.compress(inner),
            to: &wrapper
        )
        let result = try AppendValidator.validate(wrapper, produceVersion: 2, nextOffset: 10, leaderEpoch: 1, now: 0)
        let batch = try #require(result.batch)
        #expect(batch.compression == .gzip)
        #expect(batch.baseOffset == 10 && batch.lastOffset == 12)
        #expect(batch.partitionLeaderEpoch == 1)
        #expect(batch.isValid)
        let records = try batch.records()
        #expect(records.map(\.offset) == [10, 11, 12])
        #expect(records.map(\.timestamp) == [100, 101, 102])
        #expect(records.map { $0.value.map { String(buffer: $0) } } == ["x", "y", "z"])
        #expect(result.converted)
    }

    @Test func snappyWrappersAreNotSupported() {
        var wrapper = ByteBuffer()
        LegacyMessage.write(
            offset: 0,
            magic: 1,
            compression: .snappy,
            timestampType: .createTime,
            timestamp: 1,
            key: nil,
            value: buffer([1, 2, 3]),
            to: &wrapper
        )
        let error = recordsError {
            _ = try AppendValidator.validate(wrapper, produceVersion: 2, nextOffset: 0, leaderEpoch: 0, now: 0)
        }
        #expect(error?.code == .unsupportedCompressionType)
    }

    @Test func emptyRecordsAppendNothingBelowV3() throws {
        let result = try AppendValidator.validate(
            ByteBuffer(),
            produceVersion: 2,
            nextOffset: 7,
            leaderEpoch: 0,
            now: 0
        )
        #expect(result.batch == nil)
        #expect(result.firstOffset == -1)
        let error = recordsError {
            _ = try AppendValidator.validate(ByteBuffer(), produceVersion: 3, nextOffset: 7, leaderEpoch: 0, now: 0)
        }
        #expect(error?.code == .invalidRecord)
    }
}
