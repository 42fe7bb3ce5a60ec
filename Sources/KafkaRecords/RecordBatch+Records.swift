import KafkaProtocol
package import NIOCore

extension RecordBatch {
    /// The batch's records, parsed as Kafka's record iterator does: RecordCount of them, no byte
    /// left over, gzip inflated; snappy, lz4 and zstd throw `UNSUPPORTED_COMPRESSION_TYPE`.
    package func records(decompressionLimit: Int = Gzip.defaultDecompressionLimit) throws(RecordsError) -> [Record] {
        var records: [Record] = []
        records.reserveCapacity(min(max(Int(recordCount), 0), 1_024))
        try forEachRecord(decompressionLimit: decompressionLimit) { (record: Record) throws(RecordsError) in
            records.append(record)
            return true
        }
        return records
    }

    /// Parses the records one at a time, as `records()` does, without holding them all;
    /// `body` returns false to stop early (the rest is then not checked).
    package func forEachRecord(
        decompressionLimit: Int = Gzip.defaultDecompressionLimit,
        _ body: (Record) throws(RecordsError) -> Bool
    ) throws(RecordsError) {
        let count = recordCount
        guard count >= 0 else { throw .invalid("Found invalid record count \(count) in magic v2 batch") }
        if count == 0 { return }
        var payload = try decompressedPayload(limit: decompressionLimit)
        // A record takes at least 7 bytes, so a larger count cannot be honest.
        guard Int(count) <= payload.readableBytes / 7 else {
            throw .invalid("Incorrect declared batch size, premature EOF reached")
        }
        let logAppendTime: Int64? = timestampType == .logAppendTime ? maxTimestamp : nil
        let baseOffset = self.baseOffset
        let baseTimestamp = self.baseTimestamp
        for _ in 0..<count {
            guard payload.readableBytes > 0 else {
                throw .invalid("Incorrect declared batch size, premature EOF reached")
            }
            let record = try Record.read(
                from: &payload,
                baseOffset: baseOffset,
                baseTimestamp: baseTimestamp,
                logAppendTime: logAppendTime
            )
            guard try body(record) else { return }
        }
        guard payload.readableBytes == 0 else {
            throw .invalid("Incorrect declared batch size, records still remaining in file")
        }
    }

    /// The record bytes, inflated when the batch is gzip-compressed.
    package func decompressedPayload(limit: Int = Gzip.defaultDecompressionLimit) throws(RecordsError) -> ByteBuffer {
        switch compression {
        case .none?: return recordsPayload
        case .gzip?: return try Gzip.decompress(recordsPayload, limit: limit)
        case let codec?:
            throw RecordsError(
                .unsupportedCompressionType,
                "\(codec)-compressed batches are stored and served as is but not decompressed by this broker"
            )
        case nil: throw .corrupt("unknown compression codec \(attributes.compressionBits)")
        }
    }

    /// The offset of the first record whose timestamp is the batch's MaxTimestamp (Kafka's
    /// RecordBatch.offsetOfMaxTimestamp), nil when none is. A batch that cannot be decompressed
    /// answers from its header: the base offset under LogAppendTime or when BaseTimestamp is the
    /// maximum, else the last offset.
    package func offsetOfMaxTimestamp() -> Int64? {
        if timestampType == .logAppendTime { return recordCount > 0 ? baseOffset : nil }
        let max = maxTimestamp
        var found: Int64?
        do {
            try forEachRecord { (record: Record) throws(RecordsError) in
                if record.timestamp == max { found = record.offset }
                return found == nil
            }
        } catch {
            return baseTimestamp == max ? baseOffset : lastOffset
        }
        return found
    }
}

/// Builds one v2 batch the way Kafka's MemoryRecordsBuilder does for magic 2: BaseTimestamp is
/// the first record's timestamp, MaxTimestamp the greatest (or the log append time under
/// LogAppendTime), records uncompressed or gzip-compressed.
package struct RecordBatchBuilder: Sendable {
    /// BaseOffset.
    package var baseOffset: Int64
    /// PartitionLeaderEpoch (-1 as a producer writes it).
    package var partitionLeaderEpoch: Int32 = -1
    /// Only `.none` and `.gzip` can be built.
    package var compression: CompressionCodec = .none
    /// The timestamp type.
    package var timestampType: TimestampType = .createTime
    /// MaxTimestamp under LogAppendTime.
    package var logAppendTime: Int64 = -1
    /// ProducerId (-1 for none).
    package var producerId: Int64 = -1
    /// ProducerEpoch (-1 for none).
    package var producerEpoch: Int16 = -1
    /// BaseSequence (-1 for none).
    package var baseSequence: Int32 = -1
    /// The transactional attribute.
    package var isTransactional = false
    /// The control attribute.
    package var isControl = false

    private var payload = ByteBuffer()
    private var count: Int32 = 0
    private var lastOffset: Int64?
    private var firstTimestamp: Int64?
    private var greatestTimestamp: Int64 = -1

    /// A builder whose first record will have offset `baseOffset`.
    package init(baseOffset: Int64 = 0) { self.baseOffset = baseOffset }

    /// The number of records appended.
    package var recordCount: Int32 { count }

    /// Appends a record at the next offset (the base offset first).
    package mutating func append(
        timestamp: Int64,
        key: ByteBuffer?,
        value: ByteBuffer?,
        headers: [RecordHeader] = []
    ) {
        append(
            offset: lastOffset.map { $0 + 1 } ?? baseOffset,
            timestamp: timestamp,
            key: key,
            value: value,
            headers: headers
        )
    }

    /// Appends a record at `offset`, which must be above the previous record's.
    package mutating func append(
        offset: Int64,
        timestamp: Int64,
        key: ByteBuffer?,
        value: ByteBuffer?,
        headers: [RecordHeader] = []
    ) {
        precondition(lastOffset.map { offset > $0 } ?? (offset >= baseOffset), "offsets must increase")
        let base = firstTimestamp ?? timestamp
        firstTimestamp = base
        Record.write(
            offsetDelta: Int32(truncatingIfNeeded: offset &- baseOffset),
            timestampDelta: timestamp &- base,
            key: key,
            value: value,
            headers: headers,
            to: &payload
        )
        count += 1
        lastOffset = offset
        greatestTimestamp = max(greatestTimestamp, timestamp)
    }

    /// The batch, or nil when no record was appended.
    package func build() -> RecordBatch? {
        guard let lastOffset, let firstTimestamp else { return nil }
        precondition(compression == .none || compression == .gzip, "only none and gzip batches can be built")
        let records = compression == .gzip ? Gzip.compress(payload) : payload
        var buffer = ByteBufferAllocator().buffer(capacity: RecordBatch.headerSize + records.readableBytes)
        buffer.writeInteger(baseOffset)
        buffer.writeInteger(Int32(RecordBatch.headerSize - RecordBatch.logOverhead + records.readableBytes))
        buffer.writeInteger(partitionLeaderEpoch)
        buffer.writeInteger(Int8(2))
        buffer.writeInteger(UInt32(0))  // CRC, filled in below
        let attributes = BatchAttributes(
            compression: compression,
            timestampType: timestampType,
            isTransactional: isTransactional,
            isControl: isControl
        )
        buffer.writeInteger(attributes.rawValue)
        buffer.writeInteger(Int32(truncatingIfNeeded: lastOffset &- baseOffset))
        buffer.writeInteger(firstTimestamp)
        buffer.writeInteger(timestampType == .logAppendTime ? logAppendTime : greatestTimestamp)
        buffer.writeInteger(producerId)
        buffer.writeInteger(producerEpoch)
        buffer.writeInteger(baseSequence)
        buffer.writeInteger(count)
        buffer.writeImmutableBuffer(records)
        var batch = try! RecordBatch(bytes: buffer)
        batch.setCRC(batch.computeCRC())
        return batch
    }
}
