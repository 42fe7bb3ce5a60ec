import NIOCore

/// A range of protocol versions, as Kafka's message definitions write them: `0+`, `3-5`, or
/// none. An integer literal `n` is `n+`.
package struct KafkaVersions: Sendable, Hashable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    /// The lowest version in the range.
    package let lowest: Int16
    /// The highest version in the range (`Int16.max` for an open range).
    package let highest: Int16

    /// No version.
    package static let none = KafkaVersions(1, 0)

    /// The versions from `lowest` to `highest`, both included.
    package init(_ lowest: Int16, _ highest: Int16 = .max) {
        self.lowest = lowest
        self.highest = highest
    }

    /// `n+`.
    package init(integerLiteral value: Int16) { self.init(value) }

    /// Whether `version` is in the range.
    package func contains(_ version: Int16) -> Bool { lowest <= version && version <= highest }

    /// `0+`, `3-5` or `none`, as Kafka writes them.
    package var description: String {
        if lowest > highest { return "none" }
        return highest == .max ? "\(lowest)+" : lowest == highest ? "\(lowest)" : "\(lowest)-\(highest)"
    }
}

/// The type of a field: a primitive, an array, or a structure of fields.
package indirect enum KafkaType: Sendable {
    case bool, int8, int16, int32, int64, uint16, float64, string, bytes, records, uuid
    case array(KafkaType)
    case structure(KafkaStructSchema)
}

/// A structure's fields, in wire order.
package struct KafkaStructSchema: Sendable {
    /// The structure's name in Kafka's definitions (`FetchTopic`, ...).
    package let name: String
    /// Its fields, in the order they are written.
    package let fields: [KafkaField]
    /// The fields' names: a value naming another field is an error, not silently dropped.
    package let fieldNames: Set<String>

    /// A structure named `name` with `fields`.
    package init(_ name: String, _ fields: [KafkaField]) {
        self.name = name
        self.fields = fields
        fieldNames = Set(fields.map(\.name))
    }

    /// Every field at its default value, as a message decoded from a version without them.
    package var defaults: KafkaStruct {
        var value = KafkaStruct()
        for field in fields { value.fields[field.name] = field.defaultValue }
        return value
    }
}

/// One field of a message, with the versions it exists in, is nullable in, and is tagged in.
package struct KafkaField: Sendable {
    /// The field's name in Kafka's definitions (`TopicId`, ...).
    package let name: String
    /// Its type.
    package let type: KafkaType
    /// The versions that carry it.
    package let versions: KafkaVersions
    /// The versions in which it may be null.
    package let nullable: KafkaVersions
    /// The versions in which it is a tagged field, written only when not its default.
    package let tagged: KafkaVersions
    /// Its tag in those versions.
    package let tag: UInt32
    /// The field's own flexible versions where they differ from the message's (the request
    /// header's client id is never compact), else nil.
    package let flexible: KafkaVersions?
    /// Whether a value other than the default may be dropped when the version lacks the field;
    /// for other fields that is an error, as in Kafka.
    package let ignorable: Bool
    /// The value the field has where a version lacks it.
    package let defaultValue: KafkaValue

    /// A field as Kafka's definitions describe it; `default` nil is the type's zero value.
    package init(
        _ name: String,
        _ type: KafkaType,
        _ versions: KafkaVersions,
        nullable: KafkaVersions = .none,
        tagged: KafkaVersions = .none,
        tag: UInt32 = 0,
        flexible: KafkaVersions? = nil,
        ignorable: Bool = false,
        default: KafkaValue? = nil
    ) {
        self.name = name
        self.type = type
        self.versions = versions
        self.nullable = nullable
        self.tagged = tagged
        self.tag = tag
        self.flexible = flexible
        self.ignorable = ignorable
        self.defaultValue = `default` ?? type.zero
    }
}

extension KafkaType {
    /// The value of a field of this type that has no default of its own.
    package var zero: KafkaValue {
        switch self {
        case .bool: .bool(false)
        case .int8, .int16, .int32, .int64, .uint16: .int(0)
        case .float64: .float(0)
        case .string: .string("")
        case .bytes, .records: .bytes(ByteBuffer())
        case .uuid: .uuid(.zero)
        case .array: .array([])
        case .structure(let schema): .structure(schema.defaults)
        }
    }
}

/// Whether a message is a request, a response or a header.
package enum KafkaMessageKind: Sendable {
    case request, response, header
}

/// A request's or a response's schema: its API key, the versions served, and its fields.
package struct KafkaMessageSchema: Sendable {
    /// The API key (-1 for the headers).
    package let apiKey: Int16
    /// `FetchRequest`, ...
    package let name: String
    /// Request, response or header.
    package let kind: KafkaMessageKind
    /// The versions Kafka serves.
    package let valid: KafkaVersions
    /// The versions that use compact lengths and tagged fields.
    package let flexible: KafkaVersions
    /// The message's top-level structure.
    package let root: KafkaStructSchema

    /// A message schema, as the generated `KafkaSchemas` declare them.
    package init(
        apiKey: Int16,
        name: String,
        kind: KafkaMessageKind,
        valid: KafkaVersions,
        flexible: KafkaVersions,
        fields: [KafkaField]
    ) {
        self.apiKey = apiKey
        self.name = name
        self.kind = kind
        self.valid = valid
        self.flexible = flexible
        self.root = KafkaStructSchema(name, fields)
    }
}

/// The schemas of the APIs the broker serves, generated from Apache Kafka's definitions by
/// `scripts/kafka-schemas.py` (the `Schemas` folder).
package enum KafkaSchemas {}
