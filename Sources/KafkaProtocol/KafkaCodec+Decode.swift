package import NIOCore

/// Decodes and encodes messages by interpreting their `KafkaMessageSchema`: one codec for
/// every API and version, flexible versions (compact lengths, tagged fields) included.
package enum KafkaCodec {
    /// Decodes one message body of `version` from `buffer`, which must hold nothing else
    /// unless `trailingBytes` allows more (Kafka's broker ignores bytes after a request, and
    /// librdkafka 2.16 sends some after Metadata v12). Fields the version lacks get their
    /// defaults; unknown tagged fields are kept.
    package static func decode(
        _ schema: KafkaMessageSchema,
        version: Int16,
        from buffer: inout ByteBuffer,
        trailingBytes: Bool = false
    ) throws(KafkaWireError) -> KafkaStruct {
        guard schema.valid.contains(version) else {
            throw KafkaWireError("\(schema.name) v\(version) is not a version Kafka serves (\(schema.valid))")
        }
        let value = try readStruct(schema.root, version: version, flexible: schema.flexible.contains(version), &buffer)
        guard buffer.readableBytes == 0 || trailingBytes else {
            throw KafkaWireError("\(buffer.readableBytes) bytes after \(schema.name) v\(version)")
        }
        return value
    }

    static func readStruct(
        _ schema: KafkaStructSchema,
        version: Int16,
        flexible: Bool,
        _ buffer: inout ByteBuffer
    ) throws(KafkaWireError) -> KafkaStruct {
        var value = KafkaStruct()
        for field in schema.fields {
            if !field.versions.contains(version) || (flexible && field.tagged.contains(version)) {
                value.fields[field.name] = field.defaultValue
                continue
            }
            value.fields[field.name] = try readField(field, version: version, flexible: flexible, &buffer)
        }
        guard flexible else { return value }
        let count = try buffer.kafkaUnsignedVarint()
        guard Int(count) <= buffer.readableBytes else {
            throw KafkaWireError("\(count) tagged fields in \(buffer.readableBytes) bytes")
        }
        var previous: UInt32?
        for _ in 0..<count {
            let tag = try buffer.kafkaUnsignedVarint()
            if let previous, tag <= previous { throw KafkaWireError("tagged fields out of order in \(schema.name)") }
            previous = tag
            let size = try buffer.kafkaUnsignedVarint()
            guard var slice = buffer.readSlice(length: Int(size)) else {
                throw KafkaWireError("truncated tagged field \(tag) in \(schema.name)")
            }
            guard
                let field = schema.fields.first(where: {
                    $0.tag == tag && $0.tagged.contains(version) && $0.versions.contains(version)
                })
            else {
                value.unknownTags[tag] = slice
                continue
            }
            value.fields[field.name] = try readField(field, version: version, flexible: flexible, &slice)
            guard slice.readableBytes == 0 else {
                throw KafkaWireError("tagged field \(field.name) has \(slice.readableBytes) bytes too many")
            }
        }
        return value
    }

    static func readField(
        _ field: KafkaField,
        version: Int16,
        flexible messageFlexible: Bool,
        _ buffer: inout ByteBuffer
    ) throws(KafkaWireError) -> KafkaValue {
        let flexible = field.flexible.map { $0.contains(version) } ?? messageFlexible
        let value = try read(
            field.type,
            nullable: field.nullable.contains(version),
            version: version,
            flexible: flexible,
            &buffer
        )
        return value
    }

    static func read(
        _ type: KafkaType,
        nullable: Bool,
        version: Int16,
        flexible: Bool,
        _ buffer: inout ByteBuffer
    ) throws(KafkaWireError) -> KafkaValue {
        switch type {
        case .bool: return .bool(try buffer.kafkaInt8() != 0)
        case .int8: return .int(Int64(try buffer.kafkaInt8()))
        case .int16: return .int(Int64(try buffer.kafkaInt16()))
        case .int32: return .int(Int64(try buffer.kafkaInt32()))
        case .int64: return .int(try buffer.kafkaInt64())
        case .uint16: return .int(Int64(UInt16(bitPattern: try buffer.kafkaInt16())))
        case .float64: return .float(Double(bitPattern: UInt64(bitPattern: try buffer.kafkaInt64())))
        case .uuid: return .uuid(KafkaUUID(high: try buffer.kafkaUInt64(), low: try buffer.kafkaUInt64()))
        case .string:
            let text = flexible ? try buffer.kafkaCompactNullableString() : try buffer.kafkaNullableString()
            return try nonNull(text.map(KafkaValue.string), nullable: nullable, "string")
        case .bytes, .records:
            let bytes = flexible ? try buffer.kafkaCompactNullableBytes() : try buffer.kafkaNullableBytes()
            return try nonNull(bytes.map(KafkaValue.bytes), nullable: nullable, "bytes")
        case .array(let element):
            let count: Int?
            if flexible {
                let countPlusOne = try buffer.kafkaUnsignedVarint()
                count = countPlusOne == 0 ? nil : Int(countPlusOne - 1)
                if let count, count > buffer.readableBytes {
                    throw KafkaWireError("array of \(count) elements in \(buffer.readableBytes) bytes")
                }
            } else {
                count = try buffer.kafkaArrayCount()
            }
            guard let count else { return try nonNull(nil, nullable: nullable, "array") }
            var elements: [KafkaValue] = []
            elements.reserveCapacity(count)
            for _ in 0..<count {
                elements.append(try read(element, nullable: false, version: version, flexible: flexible, &buffer))
            }
            return .array(elements)
        case .structure(let schema):
            if nullable, try buffer.kafkaInt8() < 0 { return .null }
            return .structure(try readStruct(schema, version: version, flexible: flexible, &buffer))
        }
    }

    private static func nonNull(
        _ value: KafkaValue?,
        nullable: Bool,
        _ what: String
    ) throws(KafkaWireError) -> KafkaValue {
        if let value { return value }
        guard nullable else { throw KafkaWireError("null \(what) where the version does not allow one") }
        return .null
    }
}

extension ByteBuffer {
    /// An unsigned 64-bit integer (a UUID's half).
    package mutating func kafkaUInt64() throws(KafkaWireError) -> UInt64 {
        guard let value = readInteger(as: UInt64.self) else { throw KafkaWireError("truncated uuid") }
        return value
    }
}
