import CRdKafka

/// An error raised by the Kafka layer: what failed, librdkafka's reason, and whether retrying can help.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure, as an open set of well-known codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// A configuration key or value was rejected by librdkafka.
        public static let invalidConfiguration = Code("invalidConfiguration")
        /// librdkafka could not create a client handle.
        public static let clientCreation = Code("clientCreation")
        /// The client was already closed when it was used.
        public static let closed = Code("closed")
        /// A message was not delivered within `message.timeout.ms`.
        public static let messageTimedOut = Code("messageTimedOut")
        /// librdkafka's local producer queue is full.
        public static let queueFull = Code("queueFull")
        /// The connection to the brokers failed or all brokers are down.
        public static let transport = Code("transport")
        /// The topic or partition does not exist.
        public static let unknownTopicOrPartition = Code("unknownTopicOrPartition")
        /// An offset commit failed.
        public static let commitFailed = Code("commitFailed")
        /// Subscribing to topics failed.
        public static let subscriptionFailed = Code("subscriptionFailed")
        /// The embedded mock cluster refused an operation.
        public static let mockCluster = Code("mockCluster")
        /// The message was purged before delivery because the producer was closed.
        public static let purged = Code("purged")
        /// Any other error reported by a broker or by librdkafka.
        public static let broker = Code("broker")

        /// The code's name.
        public var description: String { name }
    }

    /// What failed.
    public let code: Code
    /// A human-readable reason, from librdkafka where it gave one.
    public let reason: String
    /// Whether retrying the same operation later can succeed.
    public let isRetriable: Bool
    /// Whether the client is unusable after this error and must be recreated.
    public let isFatal: Bool
    /// librdkafka's `rd_kafka_resp_err_t` value, when the error came from librdkafka.
    public let librdkafkaCode: Int32?
    /// The source file that raised the error.
    public let file: String
    /// The source line that raised the error.
    public let line: UInt

    /// Creates an error; prefer the static factories, which classify librdkafka's codes.
    public init(
        code: Code,
        reason: String,
        isRetriable: Bool = false,
        isFatal: Bool = false,
        librdkafkaCode: Int32? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) {
        self.code = code
        self.reason = reason
        self.isRetriable = isRetriable
        self.isFatal = isFatal
        self.librdkafkaCode = librdkafkaCode
        self.file = file
        self.line = line
    }

    /// A one-line description naming the code, the reason and whether a retry can help.
    public var description: String {
        var text = "KafkaError.\(code): \(reason)"
        if let librdkafkaCode { text += " (librdkafka error \(librdkafkaCode))" }
        text += isRetriable ? " [retriable]" : " [not retriable]"
        if isFatal { text += " [fatal]" }
        return text
    }
}

extension KafkaError {
    /// Classifies a librdkafka response code into a `KafkaError`.
    static func fromResponse(
        _ error: rd_kafka_resp_err_t,
        context: String? = nil,
        fatal: Bool = false,
        file: String = #fileID,
        line: UInt = #line
    ) -> KafkaError {
        let librdkafkaReason = String(cString: rd_kafka_err2str(error))
        let reason = context.map { "\($0): \(librdkafkaReason)" } ?? librdkafkaReason
        let code: Code
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

    /// An error for a client that was used after it was closed.
    static func closed(_ what: String, file: String = #fileID, line: UInt = #line) -> KafkaError {
        KafkaError(code: .closed, reason: "\(what) is closed", file: file, line: line)
    }
}
