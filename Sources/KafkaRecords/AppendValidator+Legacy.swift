import KafkaProtocol
import NIOCore

/// A record on its way into a rebuilt batch.
struct RebuiltRecord {
    /// The record's timestamp.
    var timestamp: Int64
    /// The key, nil for null.
    var key: ByteBuffer?
    /// The value, nil for null.
    var value: ByteBuffer?
    /// The headers (none for legacy input).
    var headers: [RecordHeader]
}

extension AppendValidator {
    /// LogValidator.convertAndAssignOffsetsNonCompressed: uncompressed legacy messages (each
    /// its own entry) become one uncompressed v2 batch.
    func convertUncompressed(_ entries: [ShallowBatch]) throws(RecordsError) -> ValidatedAppend {
        let firstMagic = entries[0].magic
        var records: [RebuiltRecord] = []
        for entry in entries {
            guard case .legacy(let message) = entry, entry.magic == firstMagic else {
                throw .invalid(
                    "Batch magic \(entry.magic) is not the same as the first batch's magic byte \(firstMagic)"
                )
            }
            var errors = RecordErrors()
            errors.add(
                0,
                checkRecord(
                    hasKey: message.key != nil,
                    timestamp: message.timestamp,
                    offset: message.offset,
                    message.timestampType
                )
            )
            try errors.throwIfAny()
            records.append(
                RebuiltRecord(timestamp: message.timestamp, key: message.key, value: message.value, headers: [])
            )
        }
        return try rebuild(records, compression: .none, producer: nil)
    }

    /// LogValidator's compressed path for a legacy wrapper: its inner messages, checked,
    /// become one v2 batch with the wrapper's codec.
    func convertCompressed(_ wrapper: LegacyMessage) throws(RecordsError) -> ValidatedAppend {
        let inner = try wrapper.innerMessages(decompressionLimit: config.decompressionLimit)
        var errors = RecordErrors()
        var records: [RebuiltRecord] = []
        for (index, message) in inner.enumerated() {
            if message.compression != CompressionCodec.none {
                errors.add(
                    index,
                    (
                        .invalidRecord,
                        "Compressed outer record should not have an inner record with a compression attribute set"
                    )
                )
                continue
            }
            if message.magic != wrapper.magic {
                errors.add(
                    index,
                    (
                        .invalidRecord,
                        "Record at offset \(message.offset)'s magic does not match outer magic \(wrapper.magic)"
                    )
                )
                continue
            }
            guard message.isValid else {
                throw .corrupt(
                    "Record is corrupt (stored crc = \(message.crc), computed crc = \(message.computeCRC()))"
                )
            }
            let error = checkRecord(
                hasKey: message.key != nil,
                timestamp: message.timestamp,
                offset: message.offset,
                wrapper.timestampType
            )
            errors.add(index, error)
            if error == nil {
                records.append(
                    RebuiltRecord(timestamp: message.timestamp, key: message.key, value: message.value, headers: [])
                )
            }
        }
        try errors.throwIfAny()
        return try rebuild(records, compression: wrapper.compression ?? .gzip, producer: nil)
    }

    /// LogValidator.buildRecordsAndAssignOffsets: a new v2 batch at `nextOffset` holding
    /// `records`, with the producer fields of `producer` (none for legacy input).
    func rebuild(
        _ records: [RebuiltRecord],
        compression: CompressionCodec,
        producer: RecordBatch?
    ) throws(RecordsError) -> ValidatedAppend {
        var builder = RecordBatchBuilder(baseOffset: nextOffset)
        builder.partitionLeaderEpoch = leaderEpoch
        builder.compression = compression
        builder.timestampType = config.timestampType
        builder.logAppendTime = now
        if let producer {
            builder.producerId = producer.producerId
            builder.producerEpoch = producer.producerEpoch
            builder.baseSequence = producer.baseSequence
            builder.isTransactional = producer.isTransactional
        }
        for (index, record) in records.enumerated() {
            guard record.timestamp >= -1 else {
                // Kafka's MemoryRecordsBuilder throws IllegalArgumentException: UNKNOWN_SERVER_ERROR.
                throw RecordsError(.unknownServerError, "Invalid negative timestamp \(record.timestamp)")
            }
            builder.append(
                offset: nextOffset + Int64(index),
                timestamp: record.timestamp,
                key: record.key,
                value: record.value,
                headers: record.headers
            )
        }
        guard let batch = builder.build() else { return .nothing }
        guard batch.sizeInBytes <= config.maxMessageBytes else {
            throw RecordsError(
                .messageTooLarge,
                "Message batch size is \(batch.sizeInBytes) bytes in append which exceeds the maximum "
                    + "configured size of \(config.maxMessageBytes)."
            )
        }
        let appendTime = config.timestampType == .logAppendTime
        return ValidatedAppend(
            batch: batch,
            firstOffset: nextOffset,
            lastOffset: batch.lastOffset,
            maxTimestamp: batch.maxTimestamp,
            logAppendTime: appendTime ? now : -1,
            recordCount: records.count,
            converted: true
        )
    }

    /// LogValidator.validateBatch for a v2 batch from a client.
    func checkBatch(_ batch: RecordBatch, firstMagic: Int8) throws(RecordsError) {
        let range = "[\(batch.baseOffset), \(batch.lastOffset)]"
        let countFromOffsets = Int64(batch.lastOffsetDelta) + 1
        guard countFromOffsets > 0 else { throw .invalid("Batch has an invalid offset range: \(range)") }
        let count = Int64(batch.recordCount)
        guard count > 0 else { throw .invalid("Invalid reported count for record batch: \(count)") }
        guard countFromOffsets == count else {
            throw .invalid("Inconsistent batch offset range \(range) and count of records \(count)")
        }
        guard !batch.isControl else { throw .invalid("Clients are not allowed to write control records") }
        if batch.hasProducerId && batch.baseSequence < 0 {
            throw .invalid(
                "Invalid sequence number \(batch.baseSequence) in record batch with producerId \(batch.producerId)"
            )
        }
    }

    /// LogValidator.validateKey and validateTimestamp for one record: nil when it passes.
    func checkRecord(
        hasKey: Bool,
        timestamp: Int64,
        offset: Int64,
        _ batchTimestampType: TimestampType
    ) -> (KafkaErrorCode, String)? {
        if config.compacted && !hasKey {
            return (.invalidRecord, "Compacted topic cannot accept message without key")
        }
        if config.timestampType == .createTime && timestamp != -1 {
            // Java's long arithmetic wraps; so does this.
            let difference = now &- timestamp
            if difference > config.timestampBeforeMaxMs || (0 &- difference) > config.timestampAfterMaxMs {
                return (
                    .invalidTimestamp,
                    "Timestamp \(timestamp) of message with offset \(offset) is out of range. The timestamp should be "
                        + "within [\(now &- config.timestampBeforeMaxMs), \(now &+ config.timestampAfterMaxMs)]"
                )
            }
        } else if batchTimestampType == .logAppendTime {
            return (
                .invalidTimestamp,
                "Invalid timestamp type in message at offset \(offset). Producer should not set timestamp type to LogAppendTime."
            )
        }
        return nil
    }
}

/// The rejected records of one batch (LogValidator.processRecordErrors).
struct RecordErrors {
    private var errors: [(code: KafkaErrorCode, detail: RecordErrorDetail)] = []

    /// Notes record `index`'s error, if it has one.
    mutating func add(_ index: Int, _ error: (KafkaErrorCode, String)?) {
        guard let (code, message) = error else { return }
        errors.append((code, RecordErrorDetail(batchIndex: Int32(truncatingIfNeeded: index), message: message)))
    }

    /// Throws what Kafka answers for the errors noted: INVALID_TIMESTAMP if any is a timestamp
    /// error, else INVALID_RECORD, with the record errors attached.
    func throwIfAny() throws(RecordsError) {
        guard !errors.isEmpty else { return }
        let details = errors.map(\.detail)
        if errors.contains(where: { $0.code == .invalidTimestamp }) {
            throw RecordsError(
                .invalidTimestamp,
                "One or more records have been rejected due to invalid timestamp",
                recordErrors: details
            )
        }
        let shown = details.prefix(3).map { "RecordError(batchIndex=\($0.batchIndex), message='\($0.message)')" }
        throw RecordsError(
            .invalidRecord,
            "One or more records have been rejected due to \(details.count) record errors in total, and only "
                + "showing the first three errors at most: [\(shown.joined(separator: ", "))]",
            recordErrors: details
        )
    }
}
