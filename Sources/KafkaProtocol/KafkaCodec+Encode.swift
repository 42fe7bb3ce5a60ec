package import NIOCore

extension KafkaCodec {
    /// Encodes `value` as `schema` at `version` into `buffer`. Fields the version lacks are
    /// dropped when they hold their default or are ignorable, and are an error otherwise, as in
    /// Kafka; a value of the wrong type or out of its type's range is an error too.
    package static func encode(
        _ value: KafkaStruct,
        as schema: KafkaMessageSchema,
        version: Int16,
        into buffer: inout ByteBuffer
    ) throws(KafkaWireError) {
        guard schema.valid.contains(version) else {
            throw KafkaWireError("\(schema.name) v\(version) is not a version Kafka serves (\(schema.valid))")
        }
        try writeStruct(value, schema.root, version: version, flexible: schema.flexible.contains(version), &buffer)
    }

    /// `value` encoded as `schema` at `version`, in a buffer of its own.
    package static func encode(
        _ value: KafkaStruct,
        as schema: KafkaMessageSchema,
        version: Int16
    ) throws(KafkaWireError) -> ByteBuffer {
        var buffer = ByteBuffer()
        try encode(value, as: schema, version: version, into: &buffer)
        return buffer
    }

    static func writeStruct(
        _ value: KafkaStruct,
        _ schema: KafkaStructSchema,
        version: Int16,
        flexible: Bool,
        _ buffer: inout ByteBuffer
    ) throws(KafkaWireError) {
        if value.fields.count > 0, let unknown = value.fields.keys.first(where: { !schema.fieldNames.contains($0) }) {
            throw KafkaWireError("\(schema.name) has no field \(unknown)")
        }
        var tagged: [(tag: UInt32, bytes: ByteBuffer)] = []
        for field in schema.fields {
            let fieldValue = value.fields[field.name] ?? field.defaultValue
            guard field.versions.contains(version) else {
                if !field.ignorable, fieldValue != field.defaultValue {
                    throw KafkaWireError("\(schema.name).\(field.name) cannot be sent in version \(version)")
                }
                continue
            }
            if flexible, field.tagged.contains(version) {
                guard fieldValue != field.defaultValue else { continue }
                var bytes = ByteBuffer()
                try writeField(fieldValue, field, version: version, flexible: flexible, &bytes)
                tagged.append((field.tag, bytes))
                continue
            }
            try writeField(fieldValue, field, version: version, flexible: flexible, &buffer)
        }
        guard flexible else { return }
        tagged.append(contentsOf: value.unknownTags.map { (tag: $0.key, bytes: $0.value) })
        tagged.sort { $0.tag < $1.tag }
        buffer.writeKafkaUnsignedVarint(UInt32(tagged.count))
        for (tag, var bytes) in tagged {
            buffer.writeKafkaUnsignedVarint(tag)
            buffer.writeKafkaUnsignedVarint(UInt32(bytes.readableBytes))
            buffer.writeBuffer(&bytes)
        }
    }

    static func writeField(
        _ value: KafkaValue,
        _ field: KafkaField,
        version: Int16,
        flexible messageFlexible: Bool,
        _ buffer: inout ByteBuffer
    ) throws(KafkaWireError) {
        let flexible = field.flexible.map { $0.contains(version) } ?? messageFlexible
        if value.isNull, !field.nullable.contains(version) {
            throw KafkaWireError("\(field.name) is null, which version \(version) does not allow")
        }
        do {
            try write(value, field.type, version: version, flexible: flexible, &buffer)
        } catch {
            throw KafkaWireError("\(field.name): \(error.message)")
        }
    }

    static func write(
        _ value: KafkaValue,
        _ type: KafkaType,
        version: Int16,
        flexible: Bool,
        _ buffer: inout ByteBuffer
    ) throws(KafkaWireError) {
        switch (type, value) {
        case (.bool, .bool(let flag)): buffer.writeInteger(Int8(flag ? 1 : 0))
        case (.int8, .int(let number)): buffer.writeInteger(try fitting(number, Int8.self))
        case (.int16, .int(let number)): buffer.writeInteger(try fitting(number, Int16.self))
        case (.int32, .int(let number)): buffer.writeInteger(try fitting(number, Int32.self))
        case (.int64, .int(let number)): buffer.writeInteger(number)
        case (.uint16, .int(let number)): buffer.writeInteger(try fitting(number, UInt16.self))
        case (.float64, .float(let number)): buffer.writeInteger(number.bitPattern)
        case (.uuid, .uuid(let uuid)):
            buffer.writeInteger(uuid.high)
            buffer.writeInteger(uuid.low)
        case (.string, .string(let text)):
            if flexible { buffer.writeKafkaCompactString(text) } else { try writeString(text, &buffer) }
        case (.string, .null):
            if flexible { buffer.writeKafkaCompactString(nil) } else { buffer.writeKafkaString(nil) }
        case (.bytes, .bytes(let bytes)), (.records, .bytes(let bytes)):
            if flexible { buffer.writeKafkaCompactBytes(bytes) } else { buffer.writeKafkaBytes(bytes) }
        case (.bytes, .null), (.records, .null):
            if flexible { buffer.writeKafkaCompactBytes(nil) } else { buffer.writeKafkaBytes(nil) }
        case (.array(let elementType), .array(let elements)):
            if flexible {
                buffer.writeKafkaUnsignedVarint(UInt32(elements.count + 1))
            } else {
                buffer.writeInteger(Int32(elements.count))
            }
            for element in elements {
                if element.isNull { throw KafkaWireError("null array element") }
                try write(element, elementType, version: version, flexible: flexible, &buffer)
            }
        case (.array, .null):
            if flexible { buffer.writeKafkaUnsignedVarint(0) } else { buffer.writeInteger(Int32(-1)) }
        case (.structure(let schema), .structure(let structure)):
            try writeStruct(structure, schema, version: version, flexible: flexible, &buffer)
        case (.structure, .null):
            buffer.writeInteger(Int8(-1))
        default:
            throw KafkaWireError("a \(value.kindName) where the field is \(type)")
        }
    }

    private static func writeString(_ text: String, _ buffer: inout ByteBuffer) throws(KafkaWireError) {
        guard text.utf8.count <= Int(Int16.max) else { throw KafkaWireError("a string of \(text.utf8.count) bytes") }
        buffer.writeKafkaString(text)
    }

    private static func fitting<Integer: FixedWidthInteger>(
        _ number: Int64,
        _ type: Integer.Type
    ) throws(KafkaWireError) -> Integer {
        guard let value = Integer(exactly: number) else { throw KafkaWireError("\(number) does not fit \(type)") }
        return value
    }
}

extension KafkaValue {
    /// The kind of value, for errors.
    package var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .int: "integer"
        case .float: "float"
        case .string: "string"
        case .bytes: "bytes"
        case .uuid: "uuid"
        case .array: "array"
        case .structure: "structure"
        }
    }
}
