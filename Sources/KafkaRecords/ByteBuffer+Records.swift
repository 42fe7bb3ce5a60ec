import KafkaProtocol
import NIOCore

/// Readers for the record formats' primitive types that throw `RecordsError` (with the code
/// Kafka answers for that kind of damage) instead of trapping on a short or malformed buffer.
extension ByteBuffer {
    /// A big-endian integer; a short buffer throws `code` naming `what`.
    mutating func readRecordsInteger<T: FixedWidthInteger>(
        as: T.Type,
        _ code: KafkaErrorCode = .invalidRecord,
        _ what: @autoclosure () -> String
    ) throws(RecordsError) -> T {
        guard let value = readInteger(as: T.self) else {
            throw RecordsError(code, "premature end of \(what()): \(readableBytes) bytes left")
        }
        return value
    }

    /// A zigzag varint (Kafka's ByteUtils.readVarint): at most 5 bytes.
    mutating func readVarint() throws(RecordsError) -> Int32 {
        var value: UInt32 = 0
        var shift: UInt32 = 0
        while true {
            guard let byte = readInteger(as: UInt8.self) else { throw .invalid("premature end of a varint") }
            value |= UInt32(byte & 0x7f) &<< shift
            if byte & 0x80 == 0 { break }
            shift += 7
            if shift > 28 { throw .invalid("varint longer than 5 bytes") }
        }
        return Int32(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }

    /// A zigzag varlong (Kafka's ByteUtils.readVarlong): at most 10 bytes.
    mutating func readVarlong() throws(RecordsError) -> Int64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard let byte = readInteger(as: UInt8.self) else { throw .invalid("premature end of a varlong") }
            value |= UInt64(byte & 0x7f) &<< shift
            if byte & 0x80 == 0 { break }
            shift += 7
            if shift > 63 { throw .invalid("varlong longer than 10 bytes") }
        }
        return Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }

    /// Varint-length-prefixed bytes, nil for a negative length (Kafka's Utils.readBytes).
    mutating func readVarintBytes(_ what: String) throws(RecordsError) -> ByteBuffer? {
        let length = try readVarint()
        if length < 0 { return nil }
        guard let bytes = readSlice(length: Int(length)) else {
            throw .invalid("\(what) of \(length) bytes overruns the record (\(readableBytes) bytes left)")
        }
        return bytes
    }

    /// A zigzag varint.
    mutating func writeVarint(_ value: Int32) {
        writeUnsignedVarint(UInt64(UInt32(bitPattern: (value << 1) ^ (value >> 31))))
    }

    /// A zigzag varlong.
    mutating func writeVarlong(_ value: Int64) {
        writeUnsignedVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// An unsigned base-128 varint.
    mutating func writeUnsignedVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            writeInteger(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        writeInteger(UInt8(rest))
    }

    /// Varint-length-prefixed bytes, -1 for nil.
    mutating func writeVarintBytes(_ bytes: ByteBuffer?) {
        guard let bytes else {
            writeVarint(-1)
            return
        }
        writeVarint(Int32(truncatingIfNeeded: bytes.readableBytes))
        writeImmutableBuffer(bytes)
    }

    /// Int32-length-prefixed bytes, -1 for nil (legacy messages' key and value).
    mutating func writeInt32Bytes(_ bytes: ByteBuffer?) {
        guard let bytes else {
            writeInteger(Int32(-1))
            return
        }
        writeInteger(Int32(truncatingIfNeeded: bytes.readableBytes))
        writeImmutableBuffer(bytes)
    }
}

/// The size of a zigzag varint (Kafka's ByteUtils.sizeOfVarint).
func varintSize(_ value: Int32) -> Int {
    unsignedVarintSize(UInt64(UInt32(bitPattern: (value << 1) ^ (value >> 31))))
}

/// The size of a zigzag varlong.
func varlongSize(_ value: Int64) -> Int {
    unsignedVarintSize(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
}

private func unsignedVarintSize(_ value: UInt64) -> Int {
    var size = 1
    var rest = value
    while rest >= 0x80 {
        size += 1
        rest >>= 7
    }
    return size
}
