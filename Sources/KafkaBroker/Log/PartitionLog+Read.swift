import KafkaProtocol
package import KafkaRecords
package import NIOCore

/// What a fetch read: whole batches, and the partition's offsets at the time of the read.
package struct LogReadResult: Sendable {
    /// The batches read, in offset order; the first holds the fetch offset.
    package var batches: [RecordBatch]
    /// The fetch offset the read started from.
    package var fetchOffset: Int64
    /// `HighWatermark`.
    package var highWatermark: Int64
    /// `LastStableOffset`.
    package var lastStableOffset: Int64
    /// `LogStartOffset`.
    package var logStartOffset: Int64

    /// The batches' bytes back to back: a Fetch v4+ partition's `Records`.
    package var records: ByteBuffer {
        var bytes = ByteBufferAllocator().buffer(capacity: sizeInBytes)
        for batch in batches { bytes.writeImmutableBuffer(batch.buffer) }
        return bytes
    }

    /// The size of the batches read.
    package var sizeInBytes: Int { batches.reduce(0) { $0 + $1.sizeInBytes } }

    /// The `Records` of a Fetch response of `fetchVersion`: the batches as stored for v4+, or
    /// down-converted to message format 0 (v0–v1) or 1 (v2–v3) as Kafka does.
    package func records(forFetchVersion fetchVersion: Int16) throws(RecordsError) -> ByteBuffer {
        guard let magic = DownConversion.magic(forFetchVersion: fetchVersion) else { return records }
        return try DownConversion.fetchRecords(batches, toMagic: magic, firstOffset: fetchOffset)
    }
}

extension PartitionLog {
    /// Reads whole batches from the one holding `offset` (the whole batch, even when `offset`
    /// is inside it), while they fit in `maxBytes`. With `minOneBatch` (KIP-74: the first
    /// partition of a Fetch v3+ response that returns data), the first batch is returned even
    /// when it is larger; without it a first batch larger than `maxBytes` gives no data, as
    /// Kafka gives for an incomplete first batch. An offset below the log start offset or above
    /// the log end offset is `OFFSET_OUT_OF_RANGE`; the log end offset itself reads nothing.
    package func read(from offset: Int64, maxBytes: Int, minOneBatch: Bool) throws(RecordsError) -> LogReadResult {
        guard offset >= logStartOffset && offset <= logEndOffset else {
            throw RecordsError(
                .offsetOutOfRange,
                "Received request for offset \(offset), but we only have log segments in the range "
                    + "\(logStartOffset) to \(logEndOffset)."
            )
        }
        var result = LogReadResult(
            batches: [],
            fetchOffset: offset,
            highWatermark: highWatermark,
            lastStableOffset: lastStableOffset,
            logStartOffset: logStartOffset
        )
        var position = batchPosition(containing: offset)
        var total = 0
        while position < batchCount {
            let batch = batch(at: position)
            let fits = total + batch.sizeInBytes <= maxBytes || (result.batches.isEmpty && minOneBatch)
            guard fits else { break }
            result.batches.append(batch)
            total += batch.sizeInBytes
            position += 1
        }
        return result
    }
}

/// A ListOffsets answer for one partition.
package struct OffsetLookup: Hashable, Sendable {
    /// `Timestamp`: the found record's timestamp, -1 for the special lookups.
    package var timestamp: Int64
    /// `Offset`.
    package var offset: Int64
    /// `LeaderEpoch`: -1 when unknown.
    package var leaderEpoch: Int32

    /// A lookup result.
    package init(timestamp: Int64, offset: Int64, leaderEpoch: Int32) {
        self.timestamp = timestamp
        self.offset = offset
        self.leaderEpoch = leaderEpoch
    }

    /// What ListOffsets answers when nothing matches: timestamp, offset and epoch -1.
    package static let notFound = OffsetLookup(timestamp: -1, offset: -1, leaderEpoch: -1)
}

/// ListOffsets' special timestamps.
package enum ListOffsetsTarget {
    /// -1: the log end offset.
    package static let latest: Int64 = -1
    /// -2: the log start offset.
    package static let earliest: Int64 = -2
    /// -3 (KIP-734): the record with the greatest timestamp.
    package static let maxTimestamp: Int64 = -3
    /// -4 (KIP-405): the local log start offset, which is the log start offset here.
    package static let earliestLocal: Int64 = -4
    /// -5 (KIP-1005): the highest tiered offset; nothing is tiered here.
    package static let latestTiered: Int64 = -5
}

extension PartitionLog {
    /// ListOffsets for one partition, as UnifiedLog.fetchOffsetByTimestamp answers: the special
    /// targets above, or else the first record at or after the log start offset whose
    /// timestamp is at least `timestamp`, with its timestamp and its batch's leader epoch
    /// (`notFound` when there is none).
    package func listOffsets(timestamp target: Int64) -> OffsetLookup {
        switch target {
        case ListOffsetsTarget.earliest, ListOffsetsTarget.earliestLocal:
            return OffsetLookup(
                timestamp: -1,
                offset: logStartOffset,
                leaderEpoch: epoch(forOffset: logStartOffset) ?? -1
            )
        case ListOffsetsTarget.latest:
            return OffsetLookup(timestamp: -1, offset: logEndOffset, leaderEpoch: leaderEpoch)
        case ListOffsetsTarget.latestTiered:
            return .notFound
        case ListOffsetsTarget.maxTimestamp:
            return maxTimestampLookup()
        default:
            return search(timestamp: target)
        }
    }

    /// The first batch with the greatest MaxTimestamp, and the first record in it with that
    /// timestamp (KIP-734).
    private func maxTimestampLookup() -> OffsetLookup {
        var best: RecordBatch?
        for position in 0..<batchCount {
            let batch = batch(at: position)
            if best.map({ batch.maxTimestamp > $0.maxTimestamp }) ?? true { best = batch }
        }
        guard let best, let offset = best.offsetOfMaxTimestamp() else { return .notFound }
        return OffsetLookup(
            timestamp: best.maxTimestamp,
            offset: offset,
            leaderEpoch: max(best.partitionLeaderEpoch, -1)
        )
    }

    /// FileRecords.searchForTimestamp over the whole log. A batch whose records cannot be read
    /// (snappy, lz4, zstd) answers from its header: its first offset, with BaseTimestamp when
    /// that already reaches the target, else MaxTimestamp (never past the record sought).
    private func search(timestamp target: Int64) -> OffsetLookup {
        for position in batchPosition(containing: logStartOffset)..<batchCount {
            let batch = batch(at: position)
            guard batch.maxTimestamp >= target else { continue }
            let epoch = max(batch.partitionLeaderEpoch, -1)
            var found: OffsetLookup?
            do {
                try batch.forEachRecord { (record: Record) throws(RecordsError) in
                    guard record.timestamp >= target && record.offset >= logStartOffset else { return true }
                    found = OffsetLookup(timestamp: record.timestamp, offset: record.offset, leaderEpoch: epoch)
                    return false
                }
            } catch {
                let stamp =
                    batch.timestampType == .createTime && batch.baseTimestamp >= target
                    ? batch.baseTimestamp : batch.maxTimestamp
                return OffsetLookup(timestamp: stamp, offset: max(batch.baseOffset, logStartOffset), leaderEpoch: epoch)
            }
            if let found { return found }
        }
        return .notFound
    }
}
