package import NIOCore

/// A Kafka UUID (topic ids): 16 bytes, big-endian halves.
package struct KafkaUUID: Sendable, Hashable, CustomStringConvertible {
    /// The first eight bytes.
    package var high: UInt64
    /// The last eight bytes.
    package var low: UInt64

    /// The all-zero UUID, Kafka's "no topic id".
    package static let zero = KafkaUUID(high: 0, low: 0)

    /// The UUID of two halves.
    package init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// 32 hexadecimal digits.
    package var description: String {
        let digits = String(high, radix: 16) + "|" + String(low, radix: 16)
        let parts = digits.split(separator: "|").map { String(repeating: "0", count: 16 - $0.count) + $0 }
        return parts.joined()
    }
}

/// A field's value in a decoded message, or one to encode: the codec checks it against the
/// field's type and version.
package enum KafkaValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// Every integer type (int8 to int64, uint16).
    case int(Int64)
    case float(Double)
    case string(String)
    /// `bytes` and `records`.
    case bytes(ByteBuffer)
    case uuid(KafkaUUID)
    case array([KafkaValue])
    case structure(KafkaStruct)

    /// The integer, or nil for another kind of value.
    package var int: Int64? {
        if case .int(let value) = self { return value }
        return nil
    }

    /// The string, or nil (also for null).
    package var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The bool, or nil.
    package var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The bytes, or nil (also for null).
    package var bytes: ByteBuffer? {
        if case .bytes(let value) = self { return value }
        return nil
    }

    /// The UUID, or nil.
    package var uuid: KafkaUUID? {
        if case .uuid(let value) = self { return value }
        return nil
    }

    /// The elements, or nil (also for a null array).
    package var array: [KafkaValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The structure, or nil.
    package var structure: KafkaStruct? {
        if case .structure(let value) = self { return value }
        return nil
    }

    /// Whether this is null.
    package var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

extension KafkaValue: ExpressibleByIntegerLiteral, ExpressibleByStringLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByNilLiteral, ExpressibleByArrayLiteral
{
    /// An integer field's value.
    package init(integerLiteral value: Int64) { self = .int(value) }
    /// A string field's value.
    package init(stringLiteral value: String) { self = .string(value) }
    /// A bool field's value.
    package init(booleanLiteral value: Bool) { self = .bool(value) }
    /// Null.
    package init(nilLiteral: ()) { self = .null }
    /// An array field's value.
    package init(arrayLiteral elements: KafkaValue...) { self = .array(elements) }
}

/// A structure's field values by name, and the tagged fields a decoder did not know (kept, so
/// that a decoded message encodes to the same bytes).
package struct KafkaStruct: Sendable, Hashable, ExpressibleByDictionaryLiteral {
    /// The values by field name; a field not here encodes as its default.
    package var fields: [String: KafkaValue]
    /// Tagged fields of unknown tags, by tag.
    package var unknownTags: [UInt32: ByteBuffer]

    /// An empty structure: every field at its default.
    package init() {
        fields = [:]
        unknownTags = [:]
    }

    /// A structure of these field values.
    package init(dictionaryLiteral elements: (String, KafkaValue)...) {
        self.init()
        for (name, value) in elements { fields[name] = value }
    }

    /// A field's value, `.null` when absent.
    package subscript(_ name: String) -> KafkaValue {
        get { fields[name] ?? .null }
        set { fields[name] = newValue }
    }

    /// An integer field, 0 when absent.
    package func int(_ name: String) -> Int64 { fields[name]?.int ?? 0 }

    /// A string field, nil when null or absent.
    package func string(_ name: String) -> String? { fields[name]?.string }

    /// An array of structures, empty when null or absent.
    package func structs(_ name: String) -> [KafkaStruct] { fields[name]?.array?.compactMap(\.structure) ?? [] }
}
