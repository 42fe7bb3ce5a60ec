import KafkaProtocol

/// The topic settings that append validation reads (Kafka's LogConfig), with Kafka 3.9's
/// defaults. Compression is always `compression.type=producer`: batches are kept as the
/// producer compressed them.
package struct AppendConfig: Hashable, Sendable {
    /// `message.timestamp.type`: CreateTime keeps the producer's timestamps, LogAppendTime
    /// stamps the append time.
    package var timestampType: TimestampType
    /// `cleanup.policy` includes `compact`: every record needs a key.
    package var compacted: Bool
    /// `max.message.bytes`: the largest batch accepted (Kafka's default 1048588).
    package var maxMessageBytes: Int
    /// `message.timestamp.before.max.ms` (default: unbounded).
    package var timestampBeforeMaxMs: Int64
    /// `message.timestamp.after.max.ms` (default: unbounded).
    package var timestampAfterMaxMs: Int64
    /// The most bytes a gzip batch may inflate to.
    package var decompressionLimit: Int

    /// A configuration; every argument defaults to Kafka 3.9's default.
    package init(
        timestampType: TimestampType = .createTime,
        compacted: Bool = false,
        maxMessageBytes: Int = 1_048_588,
        timestampBeforeMaxMs: Int64 = .max,
        timestampAfterMaxMs: Int64 = .max,
        decompressionLimit: Int = Gzip.defaultDecompressionLimit
    ) {
        self.timestampType = timestampType
        self.compacted = compacted
        self.maxMessageBytes = maxMessageBytes
        self.timestampBeforeMaxMs = timestampBeforeMaxMs
        self.timestampAfterMaxMs = timestampAfterMaxMs
        self.decompressionLimit = decompressionLimit
    }
}

/// What an append stores and answers: the one v2 batch with its offsets assigned, and the
/// Produce response's fields.
package struct ValidatedAppend: Sendable {
    /// The batch to store (BaseOffset, PartitionLeaderEpoch and maybe MaxTimestamp rewritten;
    /// rebuilt for legacy input); nil when a Produce v0–v2 `records` field held no complete entry.
    package var batch: RecordBatch?
    /// The first assigned offset (the Produce response's `BaseOffset`), -1 when nothing is appended.
    package var firstOffset: Int64
    /// The last assigned offset, -1 when nothing is appended.
    package var lastOffset: Int64
    /// The greatest record timestamp (the append time under LogAppendTime), -1 for none.
    package var maxTimestamp: Int64
    /// The Produce response's `LogAppendTimeMs`: the append time under LogAppendTime, else -1.
    package var logAppendTime: Int64
    /// How many records were appended.
    package var recordCount: Int
    /// Whether the batch was rebuilt (legacy input converted to v2, or a compressed batch with
    /// irregular inner offsets) rather than rewritten in place.
    package var converted: Bool

    /// The result of an empty append.
    static let nothing = ValidatedAppend(
        batch: nil,
        firstOffset: -1,
        lastOffset: -1,
        maxTimestamp: -1,
        logAppendTime: -1,
        recordCount: 0,
        converted: false
    )
}
