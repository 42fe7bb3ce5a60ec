import KafkaProtocol
import KafkaRecords
import NIOCore
import Testing

/// A producer's batch of `count` records with keys, timestamps 1000, 1001, …
private func producerBatch(
    count: Int = 3,
    compression: CompressionCodec = .none,
    keys: Bool = true,
    configure: (inout RecordBatchBuilder) -> Void = { _ in }
) -> RecordBatch {
    var builder = RecordBatchBuilder(baseOffset: 0)
    builder.compression = compression
    configure(&builder)
    for index in 0..<count {
        builder.append(
            timestamp: 1_000 + Int64(index),
            key: keys ? buffer(utf8("k\(index)")) : nil,
            value: buffer(utf8("v\(index)"))
        )
    }
    return builder.build()!
}

/// A batch with its bytes edited by `edit` and its CRC recomputed.
private func edited(_ batch: RecordBatch, _ edit: (inout [UInt8]) -> Void) -> ByteBuffer {
    var bytes = batch.buffer.bytes
    edit(&bytes)
    var copy = try! RecordBatch(bytes: buffer(bytes))
    copy.setCRC()
    return copy.buffer
}

private func validate(
    _ records: ByteBuffer,
    version: Int16 = 9,
    config: AppendConfig = AppendConfig(),
    now: Int64 = 1_000
) throws(RecordsError) -> ValidatedAppend {
    try AppendValidator.validate(
        records,
        produceVersion: version,
        nextOffset: 500,
        leaderEpoch: 4,
        now: now,
        config: config
    )
}

@Suite(.timeLimit(.minutes(10))) struct AppendValidatorTests {
    @Test func offsetsAndEpochAreAssignedInPlace() throws {
        let input = producerBatch()
        let result = try validate(input.buffer)
        let batch = try #require(result.batch)
        #expect(batch.baseOffset == 500 && batch.lastOffset == 502)
        #expect(batch.partitionLeaderEpoch == 4)
        #expect(batch.crc == input.crc)  // nothing under the CRC changed
        #expect(batch.isValid)
        #expect(result.firstOffset == 500 && result.lastOffset == 502 && result.recordCount == 3)
        #expect(result.maxTimestamp == 1_002)
        #expect(result.logAppendTime == -1)
        #expect(!result.converted)
        // Everything from the magic on is the producer's bytes.
        #expect(Array(batch.buffer.bytes[16...]) == Array(input.buffer.bytes[16...]))
    }

    @Test func aWrongMaxTimestampIsCorrected() throws {
        let input = edited(producerBatch()) { $0.replaceSubrange(35..<43, with: be(Int64(5))) }
        let batch = try #require(try validate(input).batch)
        #expect(batch.maxTimestamp == 1_002)
        #expect(batch.isValid)
    }

    @Test func logAppendTimeTopicsStampTheBatch() throws {
        let result = try validate(
            producerBatch().buffer,
            config: AppendConfig(timestampType: .logAppendTime),
            now: 77_777
        )
        let batch = try #require(result.batch)
        #expect(batch.timestampType == .logAppendTime && batch.maxTimestamp == 77_777)
        #expect(batch.isValid)
        #expect(result.logAppendTime == 77_777 && result.maxTimestamp == 77_777)
    }

    @Test func crcMismatchIsCorruptMessage() {
        var bytes = producerBatch().buffer.bytes
        bytes[bytes.count - 1] ^= 1
        #expect(recordsError { _ = try validate(buffer(bytes)) }?.code == .corruptMessage)
    }

    @Test func controlBatchesFromClientsAreInvalid() {
        let input = producerBatch {
            $0.isControl = true
            $0.isTransactional = true
            $0.producerId = 1
            $0.producerEpoch = 0
            $0.baseSequence = 0
        }
        let error = recordsError { _ = try validate(input.buffer) }
        #expect(error?.code == .invalidRecord)
        #expect(error?.message.contains("control") == true)
    }

    @Test func batchStructureChecks() {
        // A base offset other than 0.
        let offset = edited(producerBatch()) { $0.replaceSubrange(0..<8, with: be(Int64(3))) }
        #expect(recordsError { _ = try validate(offset) }?.code == .invalidRecord)
        // LastOffsetDelta and RecordCount disagree.
        let delta = edited(producerBatch()) { $0.replaceSubrange(23..<27, with: be(Int32(5))) }
        #expect(recordsError { _ = try validate(delta) }?.message.contains("Inconsistent") == true)
        // A producer id without a sequence.
        let sequence = producerBatch { $0.producerId = 8 }
        #expect(recordsError { _ = try validate(sequence.buffer) }?.message.contains("sequence") == true)
        // Two batches.
        var two = producerBatch().buffer
        two.writeImmutableBuffer(producerBatch().buffer)
        #expect(recordsError { _ = try validate(two) }?.code == .invalidRecord)
        #expect(recordsError { _ = try validate(two, version: 2) }?.code == .invalidRecord)
        // An unknown magic.
        var magic = producerBatch().buffer.bytes
        magic[16] = 3
        #expect(recordsError { _ = try validate(buffer(magic)) }?.code == .corruptMessage)
    }

    @Test func sizeLimits() {
        let error = recordsError { _ = try validate(producerBatch().buffer, config: AppendConfig(maxMessageBytes: 60)) }
        #expect(error?.code == .messageTooLarge)
    }

    @Test func zstdNeedsProduceV7() {
        let zstd = edited(producerBatch()) { $0[22] = 4 }
        #expect(recordsError { _ = try validate(zstd, version: 6) }?.code == .unsupportedCompressionType)
        // From v7 it is accepted and kept as it is (its records are not read here).
        #expect((try? validate(zstd, version: 7))?.batch?.compression == .zstd)
    }

    @Test func compactedTopicsNeedKeys() {
        let error = recordsError {
            _ = try validate(producerBatch(keys: false).buffer, config: AppendConfig(compacted: true))
        }
        #expect(error?.code == .invalidRecord)
        #expect(error?.recordErrors.map(\.batchIndex) == [0, 1, 2])
        #expect(error?.message.hasPrefix("One or more records have been rejected due to 3 record errors") == true)
    }

    @Test func timestampChecks() {
        let config = AppendConfig(timestampBeforeMaxMs: 100, timestampAfterMaxMs: 100)
        let error = recordsError { _ = try validate(producerBatch().buffer, config: config, now: 1_101) }
        #expect(error?.code == .invalidTimestamp)
        #expect(error?.recordErrors.map(\.batchIndex) == [0])  // 1000 is 101 ms old; 1001 and 1002 pass
        // A producer claiming LogAppendTime with no timestamps.
        let claims = edited(
            producerBatch {
                $0.timestampType = .logAppendTime
                $0.logAppendTime = -1
            }
        ) { _ in }
        #expect(recordsError { _ = try validate(claims) }?.code == .invalidTimestamp)
    }

    @Test func gzipBatchesAreCheckedAndKept() throws {
        let input = producerBatch(count: 20, compression: .gzip)
        let result = try validate(input.buffer)
        let batch = try #require(result.batch)
        #expect(batch.compression == .gzip && !result.converted)
        #expect(batch.recordsPayload == input.recordsPayload)
        #expect(batch.baseOffset == 500 && batch.lastOffset == 519)
        #expect(try batch.records().map(\.offset) == Array(500...519))
    }

    @Test func gzipBatchesWithIrregularInnerOffsetsAreRebuilt() throws {
        var builder = RecordBatchBuilder(baseOffset: 0)
        builder.compression = .gzip
        builder.append(offset: 0, timestamp: 1, key: nil, value: buffer(utf8("a")))
        builder.append(offset: 1, timestamp: 2, key: nil, value: buffer(utf8("b")))
        var bytes = builder.build()!.buffer.bytes
        // Inner offsets 0, 1 in a batch whose header says one record more: rewrite the inner deltas
        // by building a gzip payload with deltas 0 and 2 but LastOffsetDelta 1.
        var irregular = RecordBatchBuilder(baseOffset: 0)
        irregular.append(offset: 0, timestamp: 1, key: nil, value: buffer(utf8("a")))
        irregular.append(offset: 2, timestamp: 2, key: nil, value: buffer(utf8("b")))
        let payload = Gzip.compress(
            irregular.build()!.buffer.getSlice(at: 61, length: irregular.build()!.sizeInBytes - 61)!
        )
        bytes = Array(bytes[..<61]) + payload.bytes
        bytes.replaceSubrange(8..<12, with: be(Int32(bytes.count - 12)))
        var batch = try RecordBatch(bytes: buffer(bytes))
        batch.setCRC()
        let result = try validate(batch.buffer)
        #expect(result.converted)
        #expect(try result.batch?.records().map(\.offset) == [500, 501])
    }

    @Test func trailingPartialBytesAreIgnored() throws {
        var input = producerBatch().buffer
        input.writeBytes([0, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(try validate(input).recordCount == 3)
    }
}
