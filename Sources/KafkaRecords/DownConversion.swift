import KafkaProtocol
package import NIOCore

/// Down-conversion of stored v2 batches for old fetches, as Kafka 3.9 does it
/// (RecordsUtil.downConvert, LazyDownConversionRecords and LazyDownConversionRecordsSend):
/// Fetch v0–v1 read message format v0, Fetch v2–v3 message format v1.
///
/// Each record becomes a legacy message with its absolute offset, CRC-32, attributes, (v1)
/// timestamp and timestamp type, key and value; headers are dropped. Control batches are
/// skipped. Records of an uncompressed batch below the fetch offset are dropped. A gzip batch
/// becomes one gzip wrapper message holding its records (relative inner offsets for v1); zstd
/// (as in Kafka) and snappy and lz4 (which this broker does not decompress) throw
/// `UNSUPPORTED_COMPRESSION_TYPE`. Records of aborted transactions are kept: Fetch v0–v3 have
/// no isolation level and read uncommitted, as in Kafka.
package enum DownConversion {
    /// The largest chunk of stored bytes converted at once (LazyDownConversionRecordsSend).
    static let maxReadSize = 128 * 1024

    /// The message format a Fetch version reads: 0 for v0–v1, 1 for v2–v3, nil (v2 batches as
    /// stored) for v4 and above.
    package static func magic(forFetchVersion version: Int16) -> Int8? {
        switch version {
        case ...1: 0
        case 2...3: 1
        default: nil
        }
    }

    /// The batches converted to legacy messages of `magic` (RecordsUtil.downConvert), records
    /// of uncompressed batches below `firstOffset` dropped.
    package static func convert(
        _ batches: [RecordBatch],
        toMagic magic: Int8,
        firstOffset: Int64
    ) throws(RecordsError) -> ByteBuffer {
        precondition(magic == 0 || magic == 1, "down-conversion is to magic 0 or 1")
        var output = ByteBuffer()
        for batch in batches { try convert(batch, toMagic: magic, firstOffset: firstOffset, into: &output) }
        return output
    }

    /// The bytes of a Fetch v0–v3 partition's `Records` field, as Kafka's lazy down-conversion
    /// writes them: its size is the larger of the stored bytes' and the first converted batch's;
    /// converted messages fill it (the last one possibly cut short), and when they run out, an
    /// "overflow" entry (offset -1 and a length past the end) pads it, which consumers ignore.
    /// An error converting the first convertible batch is the partition's error; a later one
    /// ends the data with the padding, as in Kafka.
    package static func fetchRecords(
        _ batches: [RecordBatch],
        toMagic magic: Int8,
        firstOffset: Int64
    ) throws(RecordsError) -> ByteBuffer {
        var next = 0
        var first: ByteBuffer?
        while next < batches.count && first == nil {
            let converted = try convert([batches[next]], toMagic: magic, firstOffset: firstOffset)
            next += 1
            if converted.readableBytes > 0 { first = converted }
        }
        let storedSize = batches.reduce(0) { $0 + $1.sizeInBytes }
        guard let first else {
            return batches.isEmpty ? ByteBuffer() : overflowEntry(remaining: RecordBatch.logOverhead)
        }
        let size = max(storedSize, first.readableBytes)
        var output = ByteBufferAllocator().buffer(capacity: size)
        var pending: ByteBuffer? = first
        while output.readableBytes < size {
            let remaining = size - output.readableBytes
            if pending == nil && next < batches.count {
                var chunk = [batches[next]]
                var chunkSize = batches[next].sizeInBytes
                next += 1
                while next < batches.count && chunkSize + batches[next].sizeInBytes <= maxReadSize {
                    chunk.append(batches[next])
                    chunkSize += batches[next].sizeInBytes
                    next += 1
                }
                do {
                    let converted = try convert(chunk, toMagic: magic, firstOffset: firstOffset)
                    if converted.readableBytes > 0 { pending = converted }
                    continue
                } catch {
                    next = batches.count
                }
            }
            var piece = pending ?? overflowEntry(remaining: remaining)
            pending = nil
            output.writeImmutableBuffer(piece.readSlice(length: min(piece.readableBytes, remaining))!)
        }
        return output
    }

    /// LazyDownConversionRecordsSend.buildOverflowBatch, cut to `remaining` bytes.
    static func overflowEntry(remaining: Int) -> ByteBuffer {
        let length = max(RecordBatch.logOverhead, min(remaining + 1, maxReadSize))
        var entry = ByteBufferAllocator().buffer(capacity: length)
        entry.writeInteger(Int64(-1))
        entry.writeInteger(Int32(truncatingIfNeeded: max(remaining + 1, RecordBatch.headerSize)))
        entry.writeRepeatingByte(0, count: length - RecordBatch.logOverhead)
        return entry.getSlice(at: entry.readerIndex, length: min(length, remaining))!
    }

    /// One batch's messages (RecordsUtil.convertRecordBatch), appended to `output`.
    static func convert(
        _ batch: RecordBatch,
        toMagic magic: Int8,
        firstOffset: Int64,
        into output: inout ByteBuffer
    ) throws(RecordsError) {
        if batch.isControl { return }
        if batch.compression == .zstd {
            throw RecordsError(
                .unsupportedCompressionType,
                "Down-conversion of zstandard-compressed batches is not supported"
            )
        }
        let compressed = batch.compression != CompressionCodec.none
        var records = try batch.records()
        if !compressed { records.removeAll { $0.offset < firstOffset } }
        guard let firstRecord = records.first, let lastRecord = records.last else { return }
        let type = batch.timestampType
        let logAppendTime: Int64 = type == .logAppendTime ? batch.maxTimestamp : -1
        if !compressed {
            for record in records {
                LegacyMessage.write(
                    offset: record.offset,
                    magic: magic,
                    timestampType: type,
                    timestamp: type == .logAppendTime ? logAppendTime : record.timestamp,
                    key: record.key,
                    value: record.value,
                    to: &output
                )
            }
            return
        }
        var inner = ByteBuffer()
        var maxTimestamp: Int64 = -1
        for record in records {
            let timestamp = type == .logAppendTime ? logAppendTime : record.timestamp
            if magic > 0 { maxTimestamp = max(maxTimestamp, timestamp) }
            LegacyMessage.write(
                offset: magic > 0 ? record.offset &- firstRecord.offset : record.offset,
                magic: magic,
                timestampType: type,
                timestamp: timestamp,
                key: record.key,
                value: record.value,
                to: &inner
            )
        }
        LegacyMessage.write(
            offset: lastRecord.offset,
            magic: magic,
            compression: .gzip,
            timestampType: type,
            timestamp: type == .logAppendTime ? logAppendTime : maxTimestamp,
            key: nil,
            value: Gzip.compress(inner),
            to: &output
        )
    }
}
