import KafkaProtocol
import KafkaRecords
import NIOCore
import Testing

/// A legacy message written field by field: offset, size, CRC-32 of magic..end, magic,
/// attributes, (magic 1) timestamp, key, value.
private func legacyMessage(
    offset: Int64,
    magic: UInt8,
    attributes: UInt8 = 0,
    timestamp: Int64,
    key: [UInt8]?,
    value: [UInt8]?
) -> [UInt8] {
    let afterCRC: [UInt8] =
        [magic]  // magic
        + [attributes]  // compression and (magic 1) timestamp type
        + (magic == 1 ? be(timestamp) : [])  // timestamp: magic 1 only
        + (key.map { be(Int32($0.count)) + $0 } ?? be(Int32(-1)))  // key, -1 for null
        + (value.map { be(Int32($0.count)) + $0 } ?? be(Int32(-1)))  // value, -1 for null
    return be(offset)  // offset: absolute
        + be(Int32(4 + afterCRC.count))  // message size
        + be(CRC32.checksum(afterCRC))  // CRC-32 (IEEE) of magic..end
        + afterCRC
}

/// The golden batch as stored at offset 100 in leader epoch 7.
private func storedGolden() throws -> RecordBatch {
    var batch = try RecordBatch(bytes: buffer(Golden.producerBatch))
    batch.setBaseOffset(100)
    batch.setPartitionLeaderEpoch(7)
    return batch
}

@Suite(.timeLimit(.minutes(10))) struct DownConversionTests {
    @Test func fetchVersionsReadTheirMessageFormat() {
        #expect(DownConversion.magic(forFetchVersion: 0) == 0)
        #expect(DownConversion.magic(forFetchVersion: 1) == 0)
        #expect(DownConversion.magic(forFetchVersion: 2) == 1)
        #expect(DownConversion.magic(forFetchVersion: 3) == 1)
        #expect(DownConversion.magic(forFetchVersion: 4) == nil)
        #expect(DownConversion.magic(forFetchVersion: 17) == nil)
    }

    @Test func magic0MessageSet() throws {
        let expected =
            legacyMessage(offset: 100, magic: 0, timestamp: -1, key: nil, value: utf8("v1"))
            + legacyMessage(offset: 101, magic: 0, timestamp: -1, key: utf8("k2"), value: nil)
        // The same bytes spelled out, CRCs included (checked against kafka-python's builder).
        let spelled: [UInt8] =
            be(Int64(100)) + be(Int32(16)) + be(UInt32(0x4C9F_5BC2)) + [0, 0] + be(Int32(-1)) + be(Int32(2))
            + utf8("v1")
            + be(Int64(101)) + be(Int32(16)) + be(UInt32(0x8B23_E3DA)) + [0, 0] + be(Int32(2)) + utf8("k2")
            + be(Int32(-1))
        #expect(expected == spelled)
        let converted = try DownConversion.convert([try storedGolden()], toMagic: 0, firstOffset: 100)
        #expect(converted.bytes == expected)
    }

    @Test func magic1MessageSet() throws {
        let expected =
            legacyMessage(offset: 100, magic: 1, timestamp: Golden.baseTimestamp, key: nil, value: utf8("v1"))
            + legacyMessage(offset: 101, magic: 1, timestamp: Golden.baseTimestamp + 5, key: utf8("k2"), value: nil)
        #expect(Array(expected[12..<16]) == be(UInt32(0x6A55_00FB)))  // kafka-python's CRC for the first
        #expect(Array(expected[48..<52]) == be(UInt32(0xDCBE_14A1)))  // and the second
        let converted = try DownConversion.convert([try storedGolden()], toMagic: 1, firstOffset: 100)
        #expect(converted.bytes == expected)
        #expect(converted.readableBytes == 72)
    }

    @Test func aFetchOffsetInsideTheBatchDropsTheRecordsBeforeIt() throws {
        let converted = try DownConversion.convert([try storedGolden()], toMagic: 1, firstOffset: 101)
        #expect(
            converted.bytes
                == legacyMessage(
                    offset: 101,
                    magic: 1,
                    timestamp: Golden.baseTimestamp + 5,
                    key: utf8("k2"),
                    value: nil
                )
        )
    }

    @Test func logAppendTimeBatchesGiveTheAppendTimeAndTheTypeBit() throws {
        var batch = try storedGolden()
        batch.setMaxTimestamp(.logAppendTime, 1_800_000_000_000)
        let converted = try DownConversion.convert([batch], toMagic: 1, firstOffset: 0)
        let expected =
            legacyMessage(
                offset: 100,
                magic: 1,
                attributes: 0x08,
                timestamp: 1_800_000_000_000,
                key: nil,
                value: utf8("v1")
            )
            + legacyMessage(
                offset: 101,
                magic: 1,
                attributes: 0x08,
                timestamp: 1_800_000_000_000,
                key: utf8("k2"),
                value: nil
            )
        #expect(converted.bytes == expected)
        // Magic 0 has neither timestamp nor type bit.
        let magic0 = try DownConversion.convert([batch], toMagic: 0, firstOffset: 0)
        #expect(magic0.bytes.count == 56)
        #expect(magic0.bytes[17] == 0)
    }

    @Test func fetchRecordsPadToTheStoredSizeWithAnOverflowEntry() throws {
        // Stored 90 bytes; converted 72 (magic 1): 18 bytes of padding, offset -1 and length 61.
        let magic1 = try DownConversion.fetchRecords([try storedGolden()], toMagic: 1, firstOffset: 100)
        let converted = try DownConversion.convert([try storedGolden()], toMagic: 1, firstOffset: 100)
        #expect(magic1.readableBytes == 90)
        #expect(Array(magic1.bytes[..<72]) == converted.bytes)
        #expect(Array(magic1.bytes[72...]) == be(Int64(-1)) + be(Int32(61)) + [UInt8](repeating: 0, count: 6))
        // Magic 0: 56 converted, 34 of padding whose length field says 35.
        let magic0 = try DownConversion.fetchRecords([try storedGolden()], toMagic: 0, firstOffset: 100)
        #expect(magic0.readableBytes == 90)
        #expect(Array(magic0.bytes[56..<68]) == be(Int64(-1)) + be(Int32(61)))
    }

    @Test func fetchRecordsCutAConversionLargerThanTheStoredBytes() throws {
        var builder = RecordBatchBuilder(baseOffset: 0)
        for index in 0..<10 { builder.append(timestamp: 5, key: nil, value: buffer(utf8("\(index)"))) }
        let batch = try #require(builder.build())
        var second = RecordBatchBuilder(baseOffset: 10)
        second.append(timestamp: 5, key: nil, value: buffer(utf8("x")))
        let next = try #require(second.build())
        // The first batch converts to 10 × 35 = 350 bytes > the 141 + 69 stored bytes: the size is 350,
        // and the second batch's message does not fit at all.
        let records = try DownConversion.fetchRecords([batch, next], toMagic: 1, firstOffset: 0)
        #expect(records.readableBytes == 350)
        #expect(records.bytes == (try DownConversion.convert([batch], toMagic: 1, firstOffset: 0)).bytes)
    }

    @Test func controlBatchesAreSkipped() throws {
        var control = RecordBatchBuilder(baseOffset: 5)
        control.isControl = true
        control.isTransactional = true
        control.producerId = 9
        control.producerEpoch = 0
        control.append(timestamp: 1, key: buffer([0, 0, 0, 1]), value: buffer([0, 0, 0, 0, 0, 0]))
        let marker = try #require(control.build())
        var data = RecordBatchBuilder(baseOffset: 6)
        data.append(timestamp: 2, key: nil, value: buffer(utf8("after")))
        let after = try #require(data.build())
        let converted = try DownConversion.convert([marker, after], toMagic: 1, firstOffset: 5)
        #expect(converted.bytes == legacyMessage(offset: 6, magic: 1, timestamp: 2, key: nil, value: utf8("after")))
        // Only a control batch: an overflow entry of 12 bytes, as Kafka sends.
        let only = try DownConversion.fetchRecords([marker], toMagic: 0, firstOffset: 5)
        #expect(only.bytes == be(Int64(-1)) + be(Int32(61)))
        #expect(try DownConversion.fetchRecords([], toMagic: 0, firstOffset: 5).readableBytes == 0)
    }

    @Test func gzipBatchesBecomeOneGzipWrapper() throws {
        var builder = RecordBatchBuilder(baseOffset: 40)
        builder.compression = .gzip
        builder.append(timestamp: 10, key: nil, value: buffer(utf8("a")))
        builder.append(timestamp: 30, key: buffer(utf8("k")), value: buffer(utf8("b")))
        builder.append(timestamp: 20, key: nil, value: buffer(utf8("c")))
        let batch = try #require(builder.build())
        for magic: Int8 in [0, 1] {
            // A fetch offset inside a compressed batch keeps all its records, as in Kafka.
            let converted = try DownConversion.convert([batch], toMagic: magic, firstOffset: 41)
            let entries = try RecordSet.shallowBatches(converted)
            #expect(entries.count == 1)
            guard case .legacy(let wrapper) = entries.first else { throw RecordsError.invalid("not legacy") }
            #expect(wrapper.offset == 42)  // the last inner offset
            #expect(wrapper.compression == .gzip)
            #expect(wrapper.isValid)
            #expect(wrapper.key == nil)
            #expect(wrapper.timestamp == (magic == 1 ? 30 : -1))  // the greatest inner timestamp
            let inner = try wrapper.innerMessages()
            #expect(inner.map(\.offset) == [40, 41, 42])  // made absolute again for magic 1
            #expect(inner.map { $0.value.map { String(buffer: $0) } } == ["a", "b", "c"])
            #expect(inner.allSatisfy { $0.isValid && $0.magic == magic })
            #expect(inner.map(\.timestamp) == (magic == 1 ? [10, 30, 20] : [-1, -1, -1]))
        }
    }

    @Test func zstdAndUndecompressableCodecsAreUnsupported() throws {
        for codec in [CompressionCodec.zstd, .snappy, .lz4] {
            var bytes = Golden.producerBatch
            bytes[22] = UInt8(codec.rawValue)  // attributes' low byte
            var batch = try RecordBatch(bytes: buffer(bytes))
            batch.setCRC()
            let error = recordsError { _ = try DownConversion.fetchRecords([batch], toMagic: 1, firstOffset: 0) }
            #expect(error?.code == .unsupportedCompressionType)
        }
    }
}
