/// One Kafka record header; a header may carry no value.
public struct KafkaHeader: Sendable, Hashable {
    /// The header's name.
    public var key: String
    /// The header's bytes, or `nil` for a null header.
    public var value: [UInt8]?

    /// Creates a header from bytes.
    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }

    /// Creates a header from a UTF-8 string.
    public init(key: String, string: String) {
        self.init(key: key, value: Array(string.utf8))
    }
}

/// A message to produce.
public struct KafkaProducerMessage: Sendable, Hashable {
    /// The topic to write to.
    public var topic: String
    /// A fixed partition, or `nil` to let the partitioner pick one from the key.
    public var partition: Int32?
    /// The message key; messages with the same key go to the same partition.
    public var key: [UInt8]?
    /// The payload, or `nil` for a tombstone.
    public var value: [UInt8]?
    /// Record headers, in order.
    public var headers: [KafkaHeader]

    /// Creates a message from bytes.
    public init(
        topic: String,
        partition: Int32? = nil,
        key: [UInt8]? = nil,
        value: [UInt8]?,
        headers: [KafkaHeader] = []
    ) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
    }

    /// Creates a message from UTF-8 strings.
    public init(
        topic: String,
        partition: Int32? = nil,
        key: String? = nil,
        value: String?,
        headers: [KafkaHeader] = []
    ) {
        self.init(
            topic: topic,
            partition: partition,
            key: key.map { Array($0.utf8) },
            value: value.map { Array($0.utf8) },
            headers: headers
        )
    }
}

/// Where a produced message was stored.
public struct KafkaDeliveryReport: Sendable, Hashable {
    /// The topic it was written to.
    public var topic: String
    /// The partition it was written to.
    public var partition: Int32
    /// Its offset in that partition.
    public var offset: Int64
}

/// What a record's timestamp means (the topic's `message.timestamp.type`).
public enum KafkaTimestampType: Sendable, Hashable {
    /// Set by the producer.
    case createTime
    /// Set by the broker when it appended the record.
    case logAppendTime
}

/// A message read by a `KafkaConsumer`; everything is copied out of librdkafka.
public struct KafkaConsumerMessage: Sendable, Hashable {
    /// The topic it was read from.
    public var topic: String
    /// The partition it was read from.
    public var partition: Int32
    /// Its offset in that partition; commit `offset + 1` to mark it done.
    public var offset: Int64
    /// The message key, or `nil` when it had none.
    public var key: [UInt8]?
    /// The payload, or `nil` for a tombstone (null value).
    public var value: [UInt8]?
    /// Record headers, in order.
    public var headers: [KafkaHeader]
    /// The record's timestamp in milliseconds since the epoch, when the broker gave one.
    public var timestampMilliseconds: Int64?
    /// Whether that timestamp is the producer's (`CreateTime`) or the broker's (`LogAppendTime`).
    public var timestampType: KafkaTimestampType

    /// Creates a message; consumers receive these from librdkafka, tests may build them.
    public init(
        topic: String,
        partition: Int32,
        offset: Int64,
        key: [UInt8]? = nil,
        value: [UInt8]?,
        headers: [KafkaHeader] = [],
        timestampMilliseconds: Int64? = nil,
        timestampType: KafkaTimestampType = .createTime
    ) {
        self.timestampType = timestampType
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMilliseconds = timestampMilliseconds
    }

    /// The key decoded as UTF-8, if it is valid UTF-8.
    public var keyString: String? { key.flatMap { String(validating: $0, as: UTF8.self) } }

    /// The value decoded as UTF-8, if it is present and valid UTF-8.
    public var valueString: String? { value.flatMap { String(validating: $0, as: UTF8.self) } }

    /// The first header with this name, if any.
    public func header(_ key: String) -> KafkaHeader? { headers.first { $0.key == key } }
}
