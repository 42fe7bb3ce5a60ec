package import NIOCore

/// A Kafka frame or field that does not parse: the front closes the connection.
package struct KafkaWireError: Error, Sendable, CustomStringConvertible {
    /// What was wrong, in one line.
    package let message: String

    package init(_ message: String) { self.message = message }

    package var description: String { message }
}

/// Readers for the Kafka protocol's primitive types (big-endian integers, strings, bytes,
/// arrays, and the compact forms of flexible versions), each failing with
/// `KafkaWireError` instead of trapping on a short or malformed buffer.
extension ByteBuffer {
    package mutating func kafkaInt8() throws(KafkaWireError) -> Int8 {
        guard let value = readInteger(as: Int8.self) else { throw KafkaWireError("truncated int8") }
        return value
    }

    package mutating func kafkaInt16() throws(KafkaWireError) -> Int16 {
        guard let value = readInteger(as: Int16.self) else { throw KafkaWireError("truncated int16") }
        return value
    }

    package mutating func kafkaInt32() throws(KafkaWireError) -> Int32 {
        guard let value = readInteger(as: Int32.self) else { throw KafkaWireError("truncated int32") }
        return value
    }

    package mutating func kafkaInt64() throws(KafkaWireError) -> Int64 {
        guard let value = readInteger(as: Int64.self) else { throw KafkaWireError("truncated int64") }
        return value
    }

    /// An unsigned varint (at most 5 bytes for 32 bits).
    package mutating func kafkaUnsignedVarint() throws(KafkaWireError) -> UInt32 {
        var value: UInt32 = 0
        for shift in stride(from: 0, to: 35, by: 7) {
            guard let byte = readInteger(as: UInt8.self) else { throw KafkaWireError("truncated varint") }
            value |= UInt32(byte & 0x7f) << UInt32(shift)
            if byte & 0x80 == 0 { return value }
        }
        throw KafkaWireError("varint longer than 5 bytes")
    }

    /// A `STRING` (int16 length), or nil for a `NULLABLE_STRING` of length -1.
    package mutating func kafkaNullableString() throws(KafkaWireError) -> String? {
        let length = try kafkaInt16()
        if length == -1 { return nil }
        guard length >= 0 else { throw KafkaWireError("negative string length \(length)") }
        guard let text = readString(length: Int(length)) else { throw KafkaWireError("truncated string") }
        return text
    }

    package mutating func kafkaString() throws(KafkaWireError) -> String {
        guard let text = try kafkaNullableString() else { throw KafkaWireError("null where a string is required") }
        return text
    }

    /// A `COMPACT_STRING` / `COMPACT_NULLABLE_STRING` (unsigned varint length + 1).
    package mutating func kafkaCompactNullableString() throws(KafkaWireError) -> String? {
        let lengthPlusOne = try kafkaUnsignedVarint()
        if lengthPlusOne == 0 { return nil }
        guard let text = readString(length: Int(lengthPlusOne - 1)) else {
            throw KafkaWireError("truncated compact string")
        }
        return text
    }

    /// `BYTES` / `NULLABLE_BYTES` (int32 length).
    package mutating func kafkaNullableBytes() throws(KafkaWireError) -> ByteBuffer? {
        let length = try kafkaInt32()
        if length == -1 { return nil }
        guard length >= 0 else { throw KafkaWireError("negative bytes length \(length)") }
        guard let bytes = readSlice(length: Int(length)) else { throw KafkaWireError("truncated bytes") }
        return bytes
    }

    /// `COMPACT_BYTES` (unsigned varint length + 1).
    package mutating func kafkaCompactNullableBytes() throws(KafkaWireError) -> ByteBuffer? {
        let lengthPlusOne = try kafkaUnsignedVarint()
        if lengthPlusOne == 0 { return nil }
        guard let bytes = readSlice(length: Int(lengthPlusOne - 1)) else {
            throw KafkaWireError("truncated compact bytes")
        }
        return bytes
    }

    /// An `ARRAY`'s element count (int32; -1 is a null array, returned as nil), checked
    /// against the bytes left so that a huge count cannot make the reader loop for long.
    package mutating func kafkaArrayCount(minimumElementSize: Int = 1) throws(KafkaWireError) -> Int? {
        let count = try kafkaInt32()
        if count == -1 { return nil }
        guard count >= 0 else { throw KafkaWireError("negative array length \(count)") }
        guard Int(count) * minimumElementSize <= readableBytes else {
            throw KafkaWireError("array of \(count) elements in \(readableBytes) bytes")
        }
        return Int(count)
    }

    /// Skips a flexible version's tagged fields.
    package mutating func kafkaSkipTaggedFields() throws(KafkaWireError) {
        let count = try kafkaUnsignedVarint()
        guard Int(count) <= readableBytes else {
            throw KafkaWireError("\(count) tagged fields in \(readableBytes) bytes")
        }
        for _ in 0..<count {
            _ = try kafkaUnsignedVarint()
            let size = try kafkaUnsignedVarint()
            guard readSlice(length: Int(size)) != nil else { throw KafkaWireError("truncated tagged field") }
        }
    }
}

/// Writers for the same primitive types.
extension ByteBuffer {
    package mutating func writeKafkaString(_ text: String?) {
        guard let text else {
            writeInteger(Int16(-1))
            return
        }
        writeInteger(Int16(text.utf8.count))
        writeString(text)
    }

    package mutating func writeKafkaCompactString(_ text: String?) {
        guard let text else {
            writeKafkaUnsignedVarint(0)
            return
        }
        writeKafkaUnsignedVarint(UInt32(text.utf8.count + 1))
        writeString(text)
    }

    package mutating func writeKafkaBytes(_ bytes: ByteBuffer?) {
        guard var bytes else {
            writeInteger(Int32(-1))
            return
        }
        writeInteger(Int32(bytes.readableBytes))
        writeBuffer(&bytes)
    }

    package mutating func writeKafkaCompactBytes(_ bytes: ByteBuffer?) {
        guard var bytes else {
            writeKafkaUnsignedVarint(0)
            return
        }
        writeKafkaUnsignedVarint(UInt32(bytes.readableBytes + 1))
        writeBuffer(&bytes)
    }

    package mutating func writeKafkaUnsignedVarint(_ value: UInt32) {
        var rest = value
        while rest >= 0x80 {
            writeInteger(UInt8(rest & 0x7f | 0x80))
            rest >>= 7
        }
        writeInteger(UInt8(rest))
    }

    /// An empty tagged-field section.
    package mutating func writeKafkaEmptyTaggedFields() {
        writeInteger(UInt8(0))
    }
}
