import KafkaProtocol
package import KafkaRecords
package import NIOCore

/// What an append answers (the Produce response's partition fields).
package struct AppendResult: Hashable, Sendable {
    /// The first offset assigned (`BaseOffset`), -1 when nothing was appended.
    package var baseOffset: Int64
    /// The last offset assigned, -1 when nothing was appended.
    package var lastOffset: Int64
    /// `LogAppendTimeMs`: the append time under LogAppendTime, else -1.
    package var logAppendTime: Int64
    /// `LogStartOffset` after the append (and any retention it caused).
    package var logStartOffset: Int64
    /// How many records were appended.
    package var recordCount: Int
}

/// One partition's log, in memory: validated v2 batches in offset order, a log start offset
/// that retention moves, and a high watermark equal to the log end offset (no replication).
///
/// A value type without locks: the broker owns it under its own isolation. Batches are kept
/// as their exact bytes (offsets and leader epoch stamped) and served as they are.
package struct PartitionLog: Sendable {
    /// Kafka 3.9's `retention.bytes` default is unbounded; in memory the default is 256 MiB.
    package static let defaultRetentionBytes = 256 << 20

    private(set) var batches = CircularBuffer<RecordBatch>()
    /// The first offset a fetch may read (`LogStartOffset`).
    package private(set) var logStartOffset: Int64
    /// The offset the next record gets (`LogEndOffset`).
    package private(set) var logEndOffset: Int64
    /// The bytes of the batches held.
    package private(set) var sizeInBytes = 0
    /// Moves on every append and every change of the log start offset, never back: a parked
    /// long-poll fetch can wait until it differs from the value it saw.
    package private(set) var appendSequence: UInt64 = 0
    /// The leader epochs and the offsets they start at (Kafka's leader epoch cache).
    private(set) var epochStarts: [(epoch: Int32, startOffset: Int64)]

    /// The topic's append settings.
    package var config: AppendConfig
    /// The byte budget: past it the oldest batches are dropped (the newest is always kept).
    package var retentionBytes: Int {
        didSet { enforceRetention() }
    }

    /// An empty log starting at `startOffset`, led in `leaderEpoch`.
    package init(
        config: AppendConfig = AppendConfig(),
        retentionBytes: Int = PartitionLog.defaultRetentionBytes,
        leaderEpoch: Int32 = 0,
        startOffset: Int64 = 0
    ) {
        self.config = config
        self.retentionBytes = retentionBytes
        self.logStartOffset = startOffset
        self.logEndOffset = startOffset
        self.epochStarts = [(leaderEpoch, startOffset)]
    }

    /// The high watermark: the log end offset, since nothing is replicated.
    package var highWatermark: Int64 { logEndOffset }
    /// The last stable offset: the high watermark (transactions are not tracked).
    package var lastStableOffset: Int64 { logEndOffset }
    /// The number of batches held.
    package var batchCount: Int { batches.count }

    /// The epoch stamped on appends. Raising it records where the new epoch starts, as a new
    /// leader's epoch cache does; a lower value is ignored.
    package var leaderEpoch: Int32 {
        get { epochStarts.last?.epoch ?? -1 }
        set {
            guard newValue > leaderEpoch else { return }
            epochStarts.append((newValue, logEndOffset))
        }
    }

    /// The leader epoch in force at `offset`, nil before the first known epoch.
    package func epoch(forOffset offset: Int64) -> Int32? {
        epochStarts.last { $0.startOffset <= offset }?.epoch
    }

    /// Validates a Produce partition's `records` (see `AppendValidator`) and appends the result.
    package mutating func append(
        _ records: ByteBuffer,
        produceVersion: Int16,
        now: Int64
    ) throws(RecordsError) -> AppendResult {
        let validated = try AppendValidator.validate(
            records,
            produceVersion: produceVersion,
            nextOffset: logEndOffset,
            leaderEpoch: leaderEpoch,
            now: now,
            config: config
        )
        return append(validated)
    }

    /// Appends a batch that `AppendValidator` produced for this log's end offset.
    package mutating func append(_ validated: ValidatedAppend) -> AppendResult {
        guard let batch = validated.batch else {
            return AppendResult(
                baseOffset: -1,
                lastOffset: -1,
                logAppendTime: validated.logAppendTime,
                logStartOffset: logStartOffset,
                recordCount: 0
            )
        }
        precondition(batch.baseOffset == logEndOffset, "a batch validated for another offset")
        store(batch)
        return AppendResult(
            baseOffset: validated.firstOffset,
            lastOffset: validated.lastOffset,
            logAppendTime: validated.logAppendTime,
            logStartOffset: logStartOffset,
            recordCount: validated.recordCount
        )
    }

    /// Appends a batch the broker writes itself (a transaction marker built with `isControl`,
    /// an internal topic's records), without the checks made on clients' batches: it gets the
    /// log end offset as BaseOffset and this log's leader epoch. Nil when the builder is empty.
    package mutating func append(brokerBatch builder: RecordBatchBuilder) -> AppendResult? {
        guard var batch = builder.build() else { return nil }
        batch.setBaseOffset(logEndOffset)
        batch.setPartitionLeaderEpoch(leaderEpoch)
        store(batch)
        return AppendResult(
            baseOffset: batch.baseOffset,
            lastOffset: batch.lastOffset,
            logAppendTime: batch.timestampType == .logAppendTime ? batch.maxTimestamp : -1,
            logStartOffset: logStartOffset,
            recordCount: Int(batch.recordCount)
        )
    }

    /// Adds a batch at the end of the log.
    private mutating func store(_ batch: RecordBatch) {
        batches.append(batch)
        sizeInBytes += batch.sizeInBytes
        logEndOffset = batch.nextOffset
        appendSequence &+= 1
        enforceRetention()
    }

    /// Drops the oldest batches while the log is over its byte budget, keeping the newest.
    private mutating func enforceRetention() {
        var dropped = false
        while sizeInBytes > retentionBytes && batches.count > 1 {
            sizeInBytes -= batches.removeFirst().sizeInBytes
            dropped = true
        }
        if dropped, let first = batches.first, first.baseOffset > logStartOffset {
            logStartOffset = first.baseOffset
            appendSequence &+= 1
        }
    }

    /// Kafka's DeleteRecords: moves the log start offset up to `offset` (at most the high
    /// watermark, else `OFFSET_OUT_OF_RANGE`) and drops the batches wholly below it.
    /// Returns the new log start offset (the response's `LowWatermark`).
    @discardableResult
    package mutating func deleteRecords(before offset: Int64) throws(RecordsError) -> Int64 {
        guard offset >= 0 && offset <= highWatermark else {
            throw RecordsError(
                .offsetOutOfRange,
                "Cannot increment the log start offset to \(offset) of partition since it is larger than the high watermark \(highWatermark)"
            )
        }
        guard offset > logStartOffset else { return logStartOffset }
        while let first = batches.first, first.nextOffset <= offset {
            sizeInBytes -= batches.removeFirst().sizeInBytes
        }
        logStartOffset = offset
        appendSequence &+= 1
        return logStartOffset
    }

    /// The position of the batch that holds `offset` (the first whose last offset is at or
    /// past it), or `batches.count` when none does.
    func batchPosition(containing offset: Int64) -> Int {
        var low = 0
        var high = batches.count
        while low < high {
            let middle = (low + high) / 2
            if batches[batches.index(batches.startIndex, offsetBy: middle)].lastOffset < offset {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low
    }

    /// The batch at `position` (0 is the oldest held).
    func batch(at position: Int) -> RecordBatch {
        batches[batches.index(batches.startIndex, offsetBy: position)]
    }
}
