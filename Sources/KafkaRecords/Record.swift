import KafkaProtocol
package import NIOCore

/// A record header: a key (UTF-8 by convention, kept as bytes) and a nullable value.
package struct RecordHeader: Hashable, Sendable {
    /// The key's bytes.
    package var key: ByteBuffer
    /// The value, nil for a null value.
    package var value: ByteBuffer?

    /// A header from bytes.
    package init(key: ByteBuffer, value: ByteBuffer?) {
        self.key = key
        self.value = value
    }

    /// A header with a string key and an optional string value.
    package init(key: String, value: String?) {
        self.key = ByteBuffer(string: key)
        self.value = value.map { ByteBuffer(string: $0) }
    }

    /// The key decoded as UTF-8.
    package var keyString: String { String(buffer: key) }
}

/// One record of a v2 batch:
///
///     Length varint | Attributes int8 | TimestampDelta varlong | OffsetDelta varint |
///     KeyLength varint | Key | ValueLength varint | Value | HeaderCount varint | Headers
///
/// with each header `KeyLength varint | Key | ValueLength varint | Value` and -1 lengths for null.
package struct Record: Hashable, Sendable {
    /// The record's attributes (unused by Kafka; 0).
    package var attributes: Int8
    /// Timestamp minus the batch's BaseTimestamp.
    package var timestampDelta: Int64
    /// Offset minus the batch's BaseOffset.
    package var offsetDelta: Int32
    /// The key, nil for a null key.
    package var key: ByteBuffer?
    /// The value, nil for a null value (a tombstone).
    package var value: ByteBuffer?
    /// The headers, in order.
    package var headers: [RecordHeader]
    /// The absolute offset: the batch's BaseOffset plus `offsetDelta`.
    package var offset: Int64
    /// The timestamp: BaseTimestamp plus `timestampDelta`, or the batch's MaxTimestamp under
    /// LogAppendTime.
    package var timestamp: Int64
    /// The record's encoded size, length prefix included.
    package var sizeInBytes: Int

    /// Parses one record at `buffer`'s reader index, as DefaultRecord.readFrom does.
    /// `logAppendTime` is the batch's MaxTimestamp when the batch is LogAppendTime.
    static func read(
        from buffer: inout ByteBuffer,
        baseOffset: Int64,
        baseTimestamp: Int64,
        logAppendTime: Int64?
    ) throws(RecordsError) -> Record {
        let bodySize = try buffer.readVarint()
        guard bodySize >= 0, var body = buffer.readSlice(length: Int(bodySize)) else {
            throw .invalid(
                "Invalid record size: expected \(bodySize) bytes in record payload, "
                    + "but the batch has only \(buffer.readableBytes) remaining bytes"
            )
        }
        let attributes = try body.readRecordsInteger(as: Int8.self, .invalidRecord, "record attributes")
        let timestampDelta = try body.readVarlong()
        let offsetDelta = try body.readVarint()
        let key = try body.readVarintBytes("record key")
        let value = try body.readVarintBytes("record value")
        let headerCount = try body.readVarint()
        guard headerCount >= 0 else { throw .invalid("Found invalid number of record headers \(headerCount)") }
        guard Int(headerCount) <= body.readableBytes else {
            throw .invalid(
                "Found invalid number of record headers. \(headerCount) is larger than "
                    + "the remaining size of the buffer"
            )
        }
        var headers: [RecordHeader] = []
        headers.reserveCapacity(Int(headerCount))
        for _ in 0..<headerCount {
            let keyLength = try body.readVarint()
            guard keyLength >= 0 else { throw .invalid("Invalid negative header key size \(keyLength)") }
            guard let headerKey = body.readSlice(length: Int(keyLength)) else {
                throw .invalid("header key of \(keyLength) bytes overruns the record")
            }
            headers.append(RecordHeader(key: headerKey, value: try body.readVarintBytes("header value")))
        }
        guard body.readableBytes == 0 else {
            throw .invalid(
                "Invalid record size: expected to read \(bodySize) bytes in record payload, "
                    + "but instead read \(Int(bodySize) - body.readableBytes)"
            )
        }
        return Record(
            attributes: attributes,
            timestampDelta: timestampDelta,
            offsetDelta: offsetDelta,
            key: key,
            value: value,
            headers: headers,
            offset: baseOffset &+ Int64(offsetDelta),
            timestamp: logAppendTime ?? baseTimestamp &+ timestampDelta,
            sizeInBytes: varintSize(bodySize) + Int(bodySize)
        )
    }

    /// Writes one record (DefaultRecord.writeTo) and returns its size, length prefix included.
    @discardableResult
    static func write(
        offsetDelta: Int32,
        timestampDelta: Int64,
        key: ByteBuffer?,
        value: ByteBuffer?,
        headers: [RecordHeader],
        to buffer: inout ByteBuffer
    ) -> Int {
        var bodySize = 1 + varlongSize(timestampDelta) + varintSize(offsetDelta)
        bodySize += bytesSize(key) + bytesSize(value) + varintSize(Int32(truncatingIfNeeded: headers.count))
        for header in headers { bodySize += bytesSize(header.key) + bytesSize(header.value) }
        buffer.writeVarint(Int32(truncatingIfNeeded: bodySize))
        buffer.writeInteger(Int8(0))
        buffer.writeVarlong(timestampDelta)
        buffer.writeVarint(offsetDelta)
        buffer.writeVarintBytes(key)
        buffer.writeVarintBytes(value)
        buffer.writeVarint(Int32(truncatingIfNeeded: headers.count))
        for header in headers {
            buffer.writeVarintBytes(header.key)
            buffer.writeVarintBytes(header.value)
        }
        return varintSize(Int32(truncatingIfNeeded: bodySize)) + bodySize
    }

    private static func bytesSize(_ bytes: ByteBuffer?) -> Int {
        guard let bytes else { return 1 }
        return varintSize(Int32(truncatingIfNeeded: bytes.readableBytes)) + bytes.readableBytes
    }
}
