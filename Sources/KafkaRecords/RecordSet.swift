import KafkaProtocol
package import NIOCore

/// One top-level entry of a `records` field: a v2 batch, or a legacy message (which, when
/// compressed, wraps a whole message set).
package enum ShallowBatch: Sendable, Equatable {
    /// A magic 2 batch.
    case v2(RecordBatch)
    /// A magic 0 or 1 message.
    case legacy(LegacyMessage)

    /// 0, 1 or 2.
    package var magic: Int8 {
        switch self {
        case .v2: 2
        case .legacy(let message): message.magic
        }
    }

    /// The entry's size in bytes, offset and size fields included.
    package var sizeInBytes: Int {
        switch self {
        case .v2(let batch): batch.sizeInBytes
        case .legacy(let message): message.sizeInBytes
        }
    }

    /// Whether the stored CRC matches (CRC-32C for v2, CRC-32 for legacy).
    package var isValid: Bool {
        switch self {
        case .v2(let batch): batch.isValid
        case .legacy(let message): message.isValid
        }
    }

    /// The raw compression bits.
    package var compressionBits: Int8 {
        switch self {
        case .v2(let batch): batch.attributes.compressionBits
        case .legacy(let message): message.attributes & 0x07
        }
    }
}

/// A `records` field (a Produce partition's, or a stored log's) split into its entries.
package enum RecordSet {
    /// The entries of `records`, as Kafka's ByteBufferLogInputStream splits them: a size
    /// field below 14 or a magic outside 0–2 is `CORRUPT_MESSAGE`; a partial entry at the end is
    /// ignored (Kafka trims it before appending).
    package static func shallowBatches(_ records: ByteBuffer) throws(RecordsError) -> [ShallowBatch] {
        var reader = records
        var batches: [ShallowBatch] = []
        while reader.readableBytes >= RecordBatch.logOverhead {
            let start = reader.readerIndex
            let size = reader.getInteger(at: start + 8, as: Int32.self)!
            guard size >= LegacyMessage.minimumSize else {
                throw .corrupt(
                    "Record size \(size) is less than the minimum record overhead (\(LegacyMessage.minimumSize))"
                )
            }
            guard reader.readableBytes >= RecordBatch.Field.magic + 1 else { break }
            let magic = reader.getInteger(at: start + RecordBatch.Field.magic, as: Int8.self)!
            guard (0...2).contains(magic) else { throw .corrupt("Invalid magic found in record: \(magic)") }
            guard let entry = reader.readSlice(length: RecordBatch.logOverhead + Int(size)) else { break }
            if magic == 2 {
                batches.append(.v2(try RecordBatch(bytes: entry)))
            } else {
                let offset = entry.getInteger(at: entry.readerIndex, as: Int64.self)!
                let body = entry.getSlice(at: entry.readerIndex + RecordBatch.logOverhead, length: Int(size))!
                batches.append(.legacy(try LegacyMessage(offset: offset, body: body)))
            }
        }
        return batches
    }

    /// The v2 batches of `records` (a log's bytes, as `PartitionLog.read` returns them);
    /// a legacy entry is `CORRUPT_MESSAGE`.
    package static func batches(_ records: ByteBuffer) throws(RecordsError) -> [RecordBatch] {
        var result: [RecordBatch] = []
        for entry in try shallowBatches(records) {
            guard case .v2(let batch) = entry else { throw .corrupt("a legacy message where v2 batches were expected") }
            result.append(batch)
        }
        return result
    }
}
