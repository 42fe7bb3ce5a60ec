import KafkaProtocol

/// A batch's compression codec: attribute bits 0–2 (v2 batches and legacy messages alike).
package enum CompressionCodec: Int8, Sendable, CaseIterable, CustomStringConvertible {
    /// No compression.
    case none = 0
    /// gzip (RFC 1952), which this library compresses and decompresses with the system zlib.
    case gzip = 1
    /// Snappy (Kafka's xerial framing); stored and served as is, never decompressed here.
    case snappy = 2
    /// LZ4 frame; stored and served as is, never decompressed here.
    case lz4 = 3
    /// Zstandard (v2 batches only, Produce v7+); stored and served as is, never decompressed here.
    case zstd = 4

    /// Kafka's name for the codec.
    package var description: String {
        switch self {
        case .none: "none"
        case .gzip: "gzip"
        case .snappy: "snappy"
        case .lz4: "lz4"
        case .zstd: "zstd"
        }
    }

    /// The codec of attribute bits 0–2; codes 5–7 are unknown to Kafka and refused.
    static func fromAttributes(_ attributes: Int16) throws(RecordsError) -> CompressionCodec {
        guard let codec = CompressionCodec(rawValue: Int8(attributes & 0x07)) else {
            throw .corrupt("unknown compression codec \(attributes & 0x07)")
        }
        return codec
    }
}

/// Where a record's timestamp comes from: attribute bit 3 (magic 1 and 2).
package enum TimestampType: Int8, Sendable, CustomStringConvertible {
    /// Magic 0: messages have no timestamp.
    case noTimestampType = -1
    /// The producer's timestamp (`CreateTime`).
    case createTime = 0
    /// The broker's append time (`LogAppendTime`).
    case logAppendTime = 1

    /// Kafka's name for the type.
    package var description: String {
        switch self {
        case .noTimestampType: "NoTimestampType"
        case .createTime: "CreateTime"
        case .logAppendTime: "LogAppendTime"
        }
    }
}

/// A v2 batch's `Attributes` int16: compression (bits 0–2), timestamp type (3),
/// transactional (4), control (5), delete horizon (6).
package struct BatchAttributes: RawRepresentable, Hashable, Sendable {
    /// The attributes on the wire.
    package var rawValue: Int16

    /// Wraps attributes from the wire.
    package init(rawValue: Int16) { self.rawValue = rawValue }

    /// Attributes built field by field.
    package init(
        compression: CompressionCodec = .none,
        timestampType: TimestampType = .createTime,
        isTransactional: Bool = false,
        isControl: Bool = false
    ) {
        var raw = Int16(compression.rawValue)
        if timestampType == .logAppendTime { raw |= 0x08 }
        if isTransactional { raw |= 0x10 }
        if isControl { raw |= 0x20 }
        self.rawValue = raw
    }

    /// The raw compression bits (0–7).
    package var compressionBits: Int8 { Int8(rawValue & 0x07) }

    /// The timestamp type (bit 3).
    package var timestampType: TimestampType {
        get { rawValue & 0x08 == 0 ? .createTime : .logAppendTime }
        set { rawValue = newValue == .logAppendTime ? rawValue | 0x08 : rawValue & ~0x08 }
    }

    /// Whether the batch is part of a transaction (bit 4).
    package var isTransactional: Bool { rawValue & 0x10 != 0 }

    /// Whether the batch holds control records, such as transaction markers (bit 5).
    package var isControl: Bool { rawValue & 0x20 != 0 }

    /// Whether `BaseTimestamp` holds the delete horizon of a compacted batch (bit 6).
    package var hasDeleteHorizon: Bool { rawValue & 0x40 != 0 }
}
