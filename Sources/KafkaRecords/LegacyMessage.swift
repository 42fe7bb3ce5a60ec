import KafkaProtocol
package import NIOCore

/// One legacy message (magic 0 or 1) with its log offset, as Produce v0–v2 send them and
/// Fetch v0–v3 return them:
///
///     Offset int64 | MessageSize int32 | CRC uint32 | Magic int8 | Attributes int8 |
///     [Timestamp int64, magic 1 only] | KeyLength int32 | Key | ValueLength int32 | Value
///
/// The CRC-32 (IEEE) covers Magic to the end of the message. A compressed message (a wrapper)
/// holds a compressed message set in its value.
package struct LegacyMessage: Hashable, Sendable {
    /// The offset: absolute, or relative within a magic 1 wrapper.
    package var offset: Int64
    /// The stored CRC-32.
    package var crc: UInt32
    /// 0 or 1.
    package var magic: Int8
    /// Compression (bits 0–2) and, for magic 1, the timestamp type (bit 3).
    package var attributes: Int8
    /// The timestamp, -1 (no timestamp) for magic 0.
    package var timestamp: Int64
    /// The key, nil for a null key.
    package var key: ByteBuffer?
    /// The value, nil for a null value.
    package var value: ByteBuffer?
    /// The message's bytes from CRC to its end (what MessageSize counts).
    package var body: ByteBuffer

    /// The smallest message: a magic 0 one with null key and value (`RECORD_OVERHEAD_V0`).
    package static let minimumSize = 14

    /// Parses a message from its offset and its bytes after MessageSize.
    package init(offset: Int64, body: ByteBuffer) throws(RecordsError) {
        var reader = body
        self.offset = offset
        self.body = body
        crc = try reader.readRecordsInteger(as: UInt32.self, .corruptMessage, "message CRC")
        magic = try reader.readRecordsInteger(as: Int8.self, .corruptMessage, "message magic")
        guard magic == 0 || magic == 1 else { throw .corrupt("magic \(magic) in a legacy message") }
        attributes = try reader.readRecordsInteger(as: Int8.self, .corruptMessage, "message attributes")
        timestamp =
            magic == 1 ? try reader.readRecordsInteger(as: Int64.self, .corruptMessage, "message timestamp") : -1
        key = try Self.readBytes(&reader, "key")
        value = try Self.readBytes(&reader, "value")
    }

    private static func readBytes(_ reader: inout ByteBuffer, _ what: String) throws(RecordsError) -> ByteBuffer? {
        let length = try reader.readRecordsInteger(as: Int32.self, .corruptMessage, "message \(what) length")
        if length < 0 { return nil }
        guard let bytes = reader.readSlice(length: Int(length)) else {
            throw .corrupt("message \(what) of \(length) bytes overruns the message")
        }
        return bytes
    }

    /// The compression codec, nil for the codes 5–7 that Kafka does not know.
    package var compression: CompressionCodec? { CompressionCodec(rawValue: attributes & 0x07) }

    /// No timestamp type for magic 0; bit 3 for magic 1.
    package var timestampType: TimestampType {
        magic == 0 ? .noTimestampType : (attributes & 0x08 == 0 ? .createTime : .logAppendTime)
    }

    /// The message's size with its offset and size fields.
    package var sizeInBytes: Int { RecordBatch.logOverhead + body.readableBytes }

    /// The CRC-32 of the bytes from Magic to the end.
    package func computeCRC() -> UInt32 {
        CRC32.checksum(body.getSlice(at: body.readerIndex + 4, length: body.readableBytes - 4)!)
    }

    /// Whether the stored CRC matches the bytes.
    package var isValid: Bool { crc == computeCRC() }

    /// Writes a message with its offset and size (LegacyRecord.write after the log overhead):
    /// the attributes are the codec and, for magic 1, the timestamp type bit.
    package static func write(
        offset: Int64,
        magic: Int8,
        compression: CompressionCodec = .none,
        timestampType: TimestampType,
        timestamp: Int64,
        key: ByteBuffer?,
        value: ByteBuffer?,
        to buffer: inout ByteBuffer
    ) {
        var attributes = compression.rawValue
        if magic > 0 && timestampType == .logAppendTime { attributes |= 0x08 }
        let size = (magic == 0 ? 14 : 22) + (key?.readableBytes ?? 0) + (value?.readableBytes ?? 0)
        buffer.writeInteger(offset)
        buffer.writeInteger(Int32(truncatingIfNeeded: size))
        let crcIndex = buffer.writerIndex
        buffer.writeInteger(UInt32(0))
        buffer.writeInteger(magic)
        buffer.writeInteger(attributes)
        if magic > 0 { buffer.writeInteger(timestamp) }
        buffer.writeInt32Bytes(key)
        buffer.writeInt32Bytes(value)
        let crc = CRC32.checksum(buffer.getSlice(at: crcIndex + 4, length: buffer.writerIndex - crcIndex - 4)!)
        buffer.setInteger(crc, at: crcIndex)
    }

    /// The messages inside a compressed wrapper, as Kafka's DeepRecordsIterator reads them:
    /// gzip inflated (other codecs throw `UNSUPPORTED_COMPRESSION_TYPE`), inner offsets made
    /// absolute for a magic 1 wrapper, and inner magic 1 messages given the wrapper's timestamp
    /// when the wrapper is LogAppendTime. Inner messages are not checked here (CRC, magic,
    /// compression): the append validation does that.
    package func innerMessages(
        decompressionLimit: Int = Gzip.defaultDecompressionLimit
    ) throws(RecordsError)
        -> [LegacyMessage]
    {
        guard let value else {
            throw .invalid("Found invalid compressed record set with null value (magic = \(magic))")
        }
        let inflated: ByteBuffer
        switch compression {
        case .gzip?: inflated = try Gzip.decompress(value, limit: decompressionLimit)
        case .zstd?: throw .invalid("Invalid wrapper compressionType found in legacy deep record iterator \(magic)")
        case let codec?:
            throw RecordsError(.unsupportedCompressionType, "\(codec)-compressed legacy messages are not supported")
        case nil: throw .corrupt("unknown compression codec \(attributes & 0x07)")
        }
        var messages = try LegacyMessage.messageSet(inflated)
        guard let last = messages.last else {
            throw .invalid("Found invalid compressed record set with no inner records")
        }
        if magic == 1 {
            var base: Int64 = 0
            if offset != 0 {  // librdkafka may send 0 for the wrapper
                guard offset >= last.offset else {
                    throw .invalid(
                        "Found invalid wrapper offset in compressed v1 message set, wrapper offset "
                            + "'\(offset)' is less than the last inner message offset '\(last.offset)' and it is not zero."
                    )
                }
                base = offset &- last.offset
            }
            for index in messages.indices {
                messages[index].offset &+= base
                guard messages[index].magic == 1 else { continue }
                if timestampType == .logAppendTime {
                    messages[index].timestamp = timestamp
                    messages[index].attributes |= 0x08
                } else {
                    messages[index].attributes &= ~0x08
                }
            }
        }
        return messages
    }

    /// The messages of an inner message set (Kafka's DataLogInputStream): a size below the
    /// minimum is corrupt, a partial trailing message ends the set.
    static func messageSet(_ bytes: ByteBuffer) throws(RecordsError) -> [LegacyMessage] {
        var reader = bytes
        var messages: [LegacyMessage] = []
        while let offset = reader.readInteger(as: Int64.self), let size = reader.readInteger(as: Int32.self) {
            guard size >= minimumSize else {
                throw .corrupt("Record size is less than the minimum record overhead (\(minimumSize))")
            }
            guard let body = reader.readSlice(length: Int(size)) else { break }
            messages.append(try LegacyMessage(offset: offset, body: body))
        }
        return messages
    }
}
