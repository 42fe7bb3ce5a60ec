import KafkaProtocol
package import NIOCore

/// What the broker checks and rewrites when a producer's records are appended, following
/// Kafka 3.9's ProduceRequest.validateRecords, UnifiedLog.analyzeAndValidateRecords and
/// LogValidator (always to magic 2, `compression.type=producer`):
///
/// - Produce v3+: exactly one entry, magic 2 (`INVALID_RECORD`), no zstd below v7
///   (`UNSUPPORTED_COMPRESSION_TYPE`).
/// - Every entry: BaseOffset 0 for v2 (`INVALID_RECORD`), size within `max.message.bytes`
///   (`MESSAGE_TOO_LARGE`), CRC (`CORRUPT_MESSAGE`).
/// - v2 batches: one per request, offset range consistent with RecordCount, no control batch,
///   a sequence when there is a producer id (`INVALID_RECORD`); records parse to exactly
///   RecordCount (`INVALID_RECORD`); keys on compacted topics, timestamp range and type
///   (`INVALID_RECORD` / `INVALID_TIMESTAMP`, with per-record errors).
/// - Offsets assigned in place (BaseOffset rewritten), PartitionLeaderEpoch set, MaxTimestamp
///   and the timestamp type set as the topic says (the CRC recomputed only if they change).
/// - Legacy (magic 0/1) input converted to one v2 batch; a gzip wrapper becomes a gzip batch.
package struct AppendValidator {
    /// The topic's settings.
    let config: AppendConfig
    /// The offset the first record gets: the log end offset.
    let nextOffset: Int64
    /// The epoch stamped on the batch.
    let leaderEpoch: Int32
    /// The append time, ms since the epoch.
    let now: Int64

    /// Validates a Produce partition's `records` field for an append at `nextOffset` (the log
    /// end offset), stamping `leaderEpoch`, at time `now` (ms since the epoch).
    package static func validate(
        _ records: ByteBuffer,
        produceVersion: Int16,
        nextOffset: Int64,
        leaderEpoch: Int32,
        now: Int64,
        config: AppendConfig = AppendConfig()
    ) throws(RecordsError) -> ValidatedAppend {
        let entries = try RecordSet.shallowBatches(records)
        if produceVersion >= 3 { try checkProduceRequest(entries, version: produceVersion) }
        guard let first = entries.first else { return .nothing }
        let validator = AppendValidator(config: config, nextOffset: nextOffset, leaderEpoch: leaderEpoch, now: now)
        let source = try validator.analyze(entries)
        if first.magic >= 2 || source != .none {
            guard entries.count == 1 else { throw .invalid("Compressed outer record has more than one batch") }
        }
        switch (first, source) {
        case (.v2(let batch), .none): return try validator.assignInPlace(batch)
        case (.v2(let batch), _): return try validator.assignCompressed(batch, codec: source)
        case (.legacy(let wrapper), _) where source != .none: return try validator.convertCompressed(wrapper)
        case (.legacy, _): return try validator.convertUncompressed(entries)
        }
    }

    /// ProduceRequest.validateRecords, for Produce v3 and above.
    static func checkProduceRequest(_ entries: [ShallowBatch], version: Int16) throws(RecordsError) {
        guard let first = entries.first else {
            throw .invalid("Produce requests with version \(version) must have at least one record batch per partition")
        }
        guard first.magic == 2 else {
            throw .invalid(
                "Produce requests with version \(version) are only allowed to contain record batches with magic version 2"
            )
        }
        if version < 7 && first.compressionBits == CompressionCodec.zstd.rawValue {
            throw RecordsError(
                .unsupportedCompressionType,
                "Produce requests with version \(version) are not allowed to use ZStandard compression"
            )
        }
        guard entries.count == 1 else {
            throw .invalid(
                "Produce requests with version \(version) are only allowed to contain exactly one record batch per partition"
            )
        }
    }

    /// UnifiedLog.analyzeAndValidateRecords: per entry, BaseOffset, size and CRC; returns the
    /// source compression (the last compressed entry's codec).
    func analyze(_ entries: [ShallowBatch]) throws(RecordsError) -> CompressionCodec {
        var source = CompressionCodec.none
        for entry in entries {
            if case .v2(let batch) = entry, batch.baseOffset != 0 {
                throw .invalid(
                    "The baseOffset of the record batch in the append should be 0, but it is \(batch.baseOffset)"
                )
            }
            if entry.sizeInBytes > config.maxMessageBytes {
                throw RecordsError(
                    .messageTooLarge,
                    "The record batch size in the append is \(entry.sizeInBytes) bytes which exceeds "
                        + "the maximum configured value of \(config.maxMessageBytes)."
                )
            }
            guard entry.isValid else {
                let stored =
                    switch entry {
                    case .v2(let batch): batch.crc
                    case .legacy(let message): message.crc
                    }
                throw .corrupt("Record is corrupt (stored crc = \(stored))")
            }
            guard let codec = CompressionCodec(rawValue: entry.compressionBits) else {
                throw .corrupt("unknown compression codec \(entry.compressionBits)")
            }
            if codec != .none { source = codec }
        }
        return source
    }

    /// LogValidator.assignOffsetsNonCompressed for one uncompressed v2 batch.
    func assignInPlace(_ batch: RecordBatch) throws(RecordsError) -> ValidatedAppend {
        try checkBatch(batch, firstMagic: 2)
        let type = batch.timestampType
        var maxTimestamp: Int64 = -1
        var errors = RecordErrors()
        var count = 0
        try batch.forEachRecord(decompressionLimit: config.decompressionLimit) {
            (record: Record) throws(RecordsError) in
            errors.add(
                count,
                checkRecord(hasKey: record.key != nil, timestamp: record.timestamp, offset: record.offset, type)
            )
            maxTimestamp = max(maxTimestamp, record.timestamp)
            count += 1
            return true
        }
        try errors.throwIfAny()
        return finishInPlace(batch, count: count, maxTimestamp: maxTimestamp)
    }

    /// LogValidator.validateMessagesAndAssignOffsetsCompressed for one compressed v2 batch:
    /// gzip is inflated and checked record by record (and rebuilt if its inner offsets are not
    /// 0, 1, 2, …); snappy, lz4 and zstd are kept as they are, trusting the header's counts
    /// and MaxTimestamp since their records cannot be read here.
    func assignCompressed(_ batch: RecordBatch, codec: CompressionCodec) throws(RecordsError) -> ValidatedAppend {
        try checkBatch(batch, firstMagic: 2)
        guard codec == .gzip else {
            return finishInPlace(batch, count: Int(batch.recordCount), maxTimestamp: batch.maxTimestamp)
        }
        let type = batch.timestampType
        var maxTimestamp: Int64 = -1
        var inPlace = true
        var errors = RecordErrors()
        var count = 0
        try batch.forEachRecord(decompressionLimit: config.decompressionLimit) {
            (record: Record) throws(RecordsError) in
            let error = checkRecord(hasKey: record.key != nil, timestamp: record.timestamp, offset: record.offset, type)
            errors.add(count, error)
            if error == nil {
                maxTimestamp = max(maxTimestamp, record.timestamp)
                if record.offset != Int64(count) { inPlace = false }
            }
            count += 1
            return true
        }
        try errors.throwIfAny()
        if inPlace { return finishInPlace(batch, count: count, maxTimestamp: maxTimestamp) }
        // Some clients number inner records wrongly: Kafka then rebuilds the batch.
        let rebuilt = try batch.records(decompressionLimit: config.decompressionLimit).map {
            RebuiltRecord(timestamp: $0.timestamp, key: $0.key, value: $0.value, headers: $0.headers)
        }
        return try rebuild(rebuilt, compression: .gzip, producer: batch)
    }

    /// Offsets, leader epoch and MaxTimestamp for a batch kept as it came.
    private func finishInPlace(_ input: RecordBatch, count: Int, maxTimestamp: Int64) -> ValidatedAppend {
        // Storage of its own first (not the request's), so that the rewrites below copy nothing.
        var batch = input.compacted()
        batch.setBaseOffset(nextOffset)
        batch.setPartitionLeaderEpoch(leaderEpoch)
        let appendTime = config.timestampType == .logAppendTime
        let stamped = appendTime ? now : maxTimestamp
        batch.setMaxTimestamp(config.timestampType, stamped)
        return ValidatedAppend(
            batch: batch,
            firstOffset: nextOffset,
            lastOffset: nextOffset + Int64(count) - 1,
            maxTimestamp: stamped,
            logAppendTime: appendTime ? now : -1,
            recordCount: count,
            converted: false
        )
    }
}
