import KafkaProtocol
package import NIOCore

/// One v2 (magic 2) record batch, held as its exact wire bytes.
///
///     BaseOffset int64 | BatchLength int32 | PartitionLeaderEpoch int32 | Magic int8 |
///     CRC uint32 | Attributes int16 | LastOffsetDelta int32 | BaseTimestamp int64 |
///     MaxTimestamp int64 | ProducerId int64 | ProducerEpoch int16 | BaseSequence int32 |
///     RecordCount int32 | Records
///
/// The CRC-32C covers Attributes to the end of the batch, so BaseOffset, BatchLength and
/// PartitionLeaderEpoch can be rewritten without recomputing it. The header fields are read
/// from the bytes on each access; the records are parsed only on demand (`records()`).
package struct RecordBatch: Sendable, Equatable {
    /// Byte offsets of the header fields from the start of the batch.
    package enum Field {
        /// BaseOffset (int64).
        package static let baseOffset = 0
        /// BatchLength (int32): the bytes after this field.
        package static let batchLength = 8
        /// PartitionLeaderEpoch (int32).
        package static let partitionLeaderEpoch = 12
        /// Magic (int8).
        package static let magic = 16
        /// CRC (uint32).
        package static let crc = 17
        /// Attributes (int16): the first byte the CRC covers.
        package static let attributes = 21
        /// LastOffsetDelta (int32).
        package static let lastOffsetDelta = 23
        /// BaseTimestamp (int64).
        package static let baseTimestamp = 27
        /// MaxTimestamp (int64).
        package static let maxTimestamp = 35
        /// ProducerId (int64).
        package static let producerId = 43
        /// ProducerEpoch (int16).
        package static let producerEpoch = 51
        /// BaseSequence (int32).
        package static let baseSequence = 53
        /// RecordCount (int32).
        package static let recordCount = 57
        /// The first record (or the compressed records).
        package static let records = 61
    }

    /// The size of the header (`RECORD_BATCH_OVERHEAD`).
    package static let headerSize = 61
    /// BaseOffset and BatchLength (`LOG_OVERHEAD`), the prefix every format shares.
    package static let logOverhead = 12

    /// The batch's bytes, exactly `logOverhead + batchLength` of them.
    package private(set) var buffer: ByteBuffer

    /// Wraps one complete batch: checks its size against BatchLength and the minimum, and its
    /// magic; not its CRC (`isValid`) nor its records (`records()`).
    package init(bytes: ByteBuffer) throws(RecordsError) {
        guard bytes.readableBytes >= Self.headerSize else {
            throw .corrupt(
                "Record batch is corrupt (the size \(bytes.readableBytes) is smaller than "
                    + "the minimum allowed overhead \(Self.headerSize))"
            )
        }
        let length = bytes.getInteger(at: bytes.readerIndex + Field.batchLength, as: Int32.self)!
        guard Int(length) + Self.logOverhead == bytes.readableBytes else {
            throw .corrupt("batch length \(length) does not match the \(bytes.readableBytes) bytes of the batch")
        }
        let magic = bytes.getInteger(at: bytes.readerIndex + Field.magic, as: Int8.self)!
        guard magic == 2 else { throw .corrupt("magic \(magic) where a v2 batch has magic 2") }
        self.buffer = bytes
    }

    private func field<T: FixedWidthInteger>(_ offset: Int, as: T.Type = T.self) -> T {
        buffer.getInteger(at: buffer.readerIndex + offset, as: T.self)!
    }

    /// The offset of the first record (0 from a producer; assigned on append).
    package var baseOffset: Int64 { field(Field.baseOffset) }
    /// The bytes after the BatchLength field.
    package var batchLength: Int32 { field(Field.batchLength) }
    /// The leader epoch the broker stamped on append (-1 from a producer).
    package var partitionLeaderEpoch: Int32 { field(Field.partitionLeaderEpoch) }
    /// Always 2.
    package var magic: Int8 { field(Field.magic) }
    /// The stored CRC-32C.
    package var crc: UInt32 { field(Field.crc) }
    /// The attributes.
    package var attributes: BatchAttributes { BatchAttributes(rawValue: field(Field.attributes)) }
    /// The offset delta of the last record (`recordCount - 1` for a producer's batch).
    package var lastOffsetDelta: Int32 { field(Field.lastOffsetDelta) }
    /// The first record's timestamp (or the delete horizon of a compacted batch).
    package var baseTimestamp: Int64 { field(Field.baseTimestamp) }
    /// The greatest record timestamp, or the log append time under LogAppendTime.
    package var maxTimestamp: Int64 { field(Field.maxTimestamp) }
    /// The idempotent producer's id, -1 for none.
    package var producerId: Int64 { field(Field.producerId) }
    /// The producer's epoch, -1 for none.
    package var producerEpoch: Int16 { field(Field.producerEpoch) }
    /// The first record's sequence number, -1 for none.
    package var baseSequence: Int32 { field(Field.baseSequence) }
    /// The number of records.
    package var recordCount: Int32 { field(Field.recordCount) }

    /// `baseOffset + lastOffsetDelta`.
    package var lastOffset: Int64 { baseOffset &+ Int64(lastOffsetDelta) }
    /// The offset after the batch.
    package var nextOffset: Int64 { lastOffset &+ 1 }
    /// The whole batch's size in bytes.
    package var sizeInBytes: Int { buffer.readableBytes }
    /// The compression codec, nil for the codes 5–7 that Kafka does not know.
    package var compression: CompressionCodec? { CompressionCodec(rawValue: attributes.compressionBits) }
    /// The timestamp type.
    package var timestampType: TimestampType { attributes.timestampType }
    /// Whether the batch holds control records (transaction markers).
    package var isControl: Bool { attributes.isControl }
    /// Whether the batch is part of a transaction.
    package var isTransactional: Bool { attributes.isTransactional }
    /// Whether an idempotent or transactional producer wrote it (`producerId >= 0`).
    package var hasProducerId: Bool { producerId >= 0 }

    /// The CRC-32C of the bytes from Attributes to the end.
    package func computeCRC() -> UInt32 {
        CRC32C.checksum(
            buffer.getSlice(at: buffer.readerIndex + Field.attributes, length: sizeInBytes - Field.attributes)!
        )
    }

    /// Whether the stored CRC matches the bytes.
    package var isValid: Bool { crc == computeCRC() }

    /// The batch's bytes from Records on (compressed when the batch is).
    package var recordsPayload: ByteBuffer {
        buffer.getSlice(at: buffer.readerIndex + Field.records, length: sizeInBytes - Field.records)!
    }

    /// Rewrites BaseOffset (outside the CRC).
    package mutating func setBaseOffset(_ offset: Int64) {
        buffer.setInteger(offset, at: buffer.readerIndex + Field.baseOffset)
    }

    /// Rewrites PartitionLeaderEpoch (outside the CRC).
    package mutating func setPartitionLeaderEpoch(_ epoch: Int32) {
        buffer.setInteger(epoch, at: buffer.readerIndex + Field.partitionLeaderEpoch)
    }

    /// Sets the timestamp type bit and MaxTimestamp, recomputing the CRC only when either
    /// changes (Kafka's DefaultRecordBatch.setMaxTimestamp).
    package mutating func setMaxTimestamp(_ type: TimestampType, _ timestamp: Int64) {
        guard timestampType != type || maxTimestamp != timestamp else { return }
        var attributes = self.attributes
        attributes.timestampType = type
        buffer.setInteger(attributes.rawValue, at: buffer.readerIndex + Field.attributes)
        buffer.setInteger(timestamp, at: buffer.readerIndex + Field.maxTimestamp)
        buffer.setInteger(computeCRC(), at: buffer.readerIndex + Field.crc)
    }

    /// Stores `crc` as the batch's CRC (after building or rewriting it).
    mutating func setCRC(_ crc: UInt32) {
        buffer.setInteger(crc, at: buffer.readerIndex + Field.crc)
    }

    /// A copy whose bytes are in storage of their own, so that keeping the batch does not keep
    /// a larger buffer (such as a whole request) alive.
    package func compacted() -> RecordBatch {
        var copy = self
        var fresh = ByteBufferAllocator().buffer(capacity: sizeInBytes)
        fresh.writeImmutableBuffer(buffer)
        copy.buffer = fresh
        return copy
    }
}
