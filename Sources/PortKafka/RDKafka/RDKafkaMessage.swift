import CRdKafka

/// Messages and headers across the bridge: Swift's headers into a librdkafka header list
/// for producing, and a consumed librdkafka message copied into a `KafkaConsumerMessage`.
enum RDKafkaMessage {
    /// A new librdkafka header list holding `headers`, or `nil` when there are none; the
    /// caller owns it until a produce call takes it.
    static func headerList(_ headers: [KafkaHeader]) -> OpaquePointer? {
        guard !headers.isEmpty, let list = rd_kafka_headers_new(headers.count) else { return nil }
        for header in headers {
            _ = withOptionalBytes(header.value) { value, count in
                rd_kafka_header_add(list, header.key, -1, value, count)
            }
        }
        return list
    }

    /// Copies topic, partition, offset, key, value and headers out of a librdkafka message.
    static func copy(_ pointer: UnsafeMutablePointer<rd_kafka_message_t>) -> KafkaConsumerMessage {
        let message = pointer.pointee
        let topic = message.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
        let value = message.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: message.len)) }
        let key = message.key.map { Array(UnsafeRawBufferPointer(start: $0, count: message.key_len)) }

        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(pointer, &timestampType)
        return KafkaConsumerMessage(
            topic: topic,
            partition: message.partition,
            offset: message.offset,
            key: key,
            value: value,
            headers: headers(of: pointer),
            timestampMilliseconds: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp,
            timestampType: timestampType == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? .logAppendTime : .createTime
        )
    }

    /// Copies a librdkafka message's headers, in order.
    private static func headers(of pointer: UnsafeMutablePointer<rd_kafka_message_t>) -> [KafkaHeader] {
        var headers: [KafkaHeader] = []
        var headerList: OpaquePointer?
        guard rd_kafka_message_headers(pointer, &headerList) == RD_KAFKA_RESP_ERR_NO_ERROR, let headerList else {
            return headers
        }
        var index = 0
        while true {
            var name: UnsafePointer<CChar>?
            var bytes: UnsafeRawPointer?
            var count = 0
            guard rd_kafka_header_get_all(headerList, index, &name, &bytes, &count) == RD_KAFKA_RESP_ERR_NO_ERROR
            else { break }
            headers.append(
                KafkaHeader(
                    key: name.map { String(cString: $0) } ?? "",
                    value: bytes.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) }
                )
            )
            index += 1
        }
        return headers
    }
}

/// Calls `body` with a pointer and count for optional bytes (NULL and 0 for `nil`).
func withOptionalBytes<Result>(
    _ bytes: [UInt8]?,
    _ body: (UnsafeRawPointer?, Int) throws -> Result
) rethrows -> Result {
    guard let bytes else { return try body(nil, 0) }
    return try bytes.withUnsafeBytes { try body($0.baseAddress, $0.count) }
}
