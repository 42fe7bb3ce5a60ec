package import KafkaProtocol
package import NIOCore

/// A topic's 16-byte id (Kafka's Uuid), derived from the topic name so that it is the same on
/// every call and every run: the first 16 bytes of SHA-256("kafka-topic-id" NUL name), with
/// the UUID version (8, custom) and variant bits set. It is never Kafka's zero id nor its
/// reserved metadata topic id (the version bits make both impossible), and its base64 form never
/// starts with "-" (which Kafka also avoids, for command lines).
package struct TopicID: Hashable, Sendable, CustomStringConvertible {
    /// The most significant 8 bytes, big-endian (Kafka's `mostSignificantBits`).
    package let mostSignificantBits: UInt64
    /// The least significant 8 bytes (Kafka's `leastSignificantBits`).
    package let leastSignificantBits: UInt64

    /// Kafka's `Uuid.ZERO_UUID`: the null topic id.
    package static let zero = TopicID(mostSignificantBits: 0, leastSignificantBits: 0)
    /// Kafka's `Uuid.METADATA_TOPIC_ID`, reserved.
    package static let metadataTopic = TopicID(mostSignificantBits: 0, leastSignificantBits: 1)

    /// An id from its two halves.
    package init(mostSignificantBits: UInt64, leastSignificantBits: UInt64) {
        self.mostSignificantBits = mostSignificantBits
        self.leastSignificantBits = leastSignificantBits
    }

    /// The id of topic `name`; `incarnation` above 0 (a topic re-created after a deletion)
    /// gives a different id, as Kafka gives a re-created topic a new one.
    package init(topic name: String, incarnation: Int = 0) {
        var input = Array("kafka-topic-id\u{0}\(name)".utf8)
        if incarnation > 0 { input += Array("\u{0}\(incarnation)".utf8) }
        var bytes = Array(SHA256.hash(input).prefix(16))
        bytes[6] = (bytes[6] & 0x0f) | 0x80  // version 8
        bytes[8] = (bytes[8] & 0x3f) | 0x80  // RFC 9562 variant
        if bytes[0] >> 2 == 62 { bytes[0] &= ~0x08 }  // base64 would start with "-"
        self.init(
            mostSignificantBits: bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) },
            leastSignificantBits: bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
        )
    }

    /// The 16 bytes as Kafka's `UUID` wire type writes them.
    package var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: mostSignificantBits >> UInt64(56 - $0 * 8)) }
            + (0..<8).map { UInt8(truncatingIfNeeded: leastSignificantBits >> UInt64(56 - $0 * 8)) }
    }

    /// Writes the `UUID` wire type (16 bytes).
    package func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(mostSignificantBits)
        buffer.writeInteger(leastSignificantBits)
    }

    /// Kafka's `Uuid.toString`: URL-safe base64 without padding (22 characters).
    package var description: String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let bytes = self.bytes + [0, 0]  // 18 bytes: six groups of three
        var text = ""
        for group in stride(from: 0, to: 18, by: 3) {
            let value = UInt32(bytes[group]) << 16 | UInt32(bytes[group + 1]) << 8 | UInt32(bytes[group + 2])
            for shift in [18, 12, 6, 0] { text.append(alphabet[Int((value >> UInt32(shift)) & 0x3f)]) }
        }
        return String(text.prefix(22))
    }

    /// The standard hyphenated hexadecimal form.
    package var uuidString: String {
        let hex = bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]].map { $0.joined() }.joined(
            separator: "-"
        )
    }
}

extension KafkaUUID {
    /// A topic id as the protocol's UUID.
    package init(_ id: TopicID) { self.init(high: id.mostSignificantBits, low: id.leastSignificantBits) }
}

extension TopicID {
    /// The topic id a request names.
    package init(_ uuid: KafkaUUID) { self.init(mostSignificantBits: uuid.high, leastSignificantBits: uuid.low) }
}
