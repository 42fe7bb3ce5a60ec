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
    /// An error for a client that was used after it was closed.
    static func closed(_ what: String, file: String = #fileID, line: UInt = #line) -> KafkaError {
        KafkaError(code: .closed, reason: "\(what) is closed", file: file, line: line)
    }
}
