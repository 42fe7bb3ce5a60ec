import CRdKafka

/// librdkafka's error codes (`rd_kafka_resp_err_t`) for the Swift side: each classified
/// into a `KafkaError`, and their names.
enum RDKafkaError {
    /// librdkafka's local `_TRANSPORT` code: the broker dropped the connection.
    static let transportCode = RD_KAFKA_RESP_ERR__TRANSPORT.rawValue

    /// Classifies a librdkafka response code into a `KafkaError`.
    static func kafkaError(
        _ error: rd_kafka_resp_err_t,
        context: String? = nil,
        fatal: Bool = false,
        file: String = #fileID,
        line: UInt = #line
    ) -> KafkaError {
        let librdkafkaReason = String(cString: rd_kafka_err2str(error))
        let reason = context.map { "\($0): \(librdkafkaReason)" } ?? librdkafkaReason
        let code: KafkaError.Code
        switch error {
        case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
            code = .messageTimedOut
        case RD_KAFKA_RESP_ERR__QUEUE_FULL:
            code = .queueFull
        case RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__RESOLVE,
            RD_KAFKA_RESP_ERR__AUTHENTICATION, RD_KAFKA_RESP_ERR__SSL:
            code = .transport
        case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC,
            RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
            code = .unknownTopicOrPartition
        case RD_KAFKA_RESP_ERR__PURGE_QUEUE, RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
            code = .purged
        case RD_KAFKA_RESP_ERR_INVALID_CONFIG, RD_KAFKA_RESP_ERR__INVALID_ARG:
            code = .invalidConfiguration
        default:
            code = .broker
        }
        return KafkaError(
            code: code,
            reason: reason,
            isRetriable: !fatal && isRetriable(error),
            isFatal: fatal,
            librdkafkaCode: error.rawValue,
            file: file,
            line: line
        )
    }

    /// Whether librdkafka's code describes a condition that can clear by itself.
    private static func isRetriable(_ error: rd_kafka_resp_err_t) -> Bool {
        switch error {
        case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
            RD_KAFKA_RESP_ERR__QUEUE_FULL, RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
            RD_KAFKA_RESP_ERR__RESOLVE, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
            RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE,
            RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND,
            RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
            RD_KAFKA_RESP_ERR_NOT_COORDINATOR, RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS,
            RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION, RD_KAFKA_RESP_ERR__WAIT_COORD, RD_KAFKA_RESP_ERR__IN_PROGRESS,
            RD_KAFKA_RESP_ERR__PURGE_QUEUE, RD_KAFKA_RESP_ERR__PURGE_INFLIGHT, RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR,
            RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
            return true
        default:
            return false
        }
    }

    /// The code librdkafka names so (`NOT_LEADER_FOR_PARTITION`, `_TRANSPORT`…), matched
    /// without regard to case; nil for a name it does not know.
    static func code(named name: String) -> Int32? {
        var descriptions: UnsafePointer<rd_kafka_err_desc>?
        var count = 0
        rd_kafka_get_err_descs(&descriptions, &count)
        guard let descriptions else { return nil }
        let wanted = name.uppercased()
        for index in 0..<count {
            guard let cName = descriptions[index].name, String(cString: cName) == wanted else { continue }
            return descriptions[index].code.rawValue
        }
        return nil
    }

    /// librdkafka's name for a code.
    static func name(of code: Int32) -> String {
        String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue: code)))
    }
}

extension String {
    /// Decodes a NUL-terminated error buffer that librdkafka filled in.
    init(errorBuffer buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
