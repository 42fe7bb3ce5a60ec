package import KafkaProtocol

/// One rejected record of a Produce partition: `RecordErrors` in Produce v8+ responses.
package struct RecordErrorDetail: Hashable, Sendable {
    /// The record's index within its batch (`BatchIndex`).
    package var batchIndex: Int32
    /// Why it was rejected (`BatchIndexErrorMessage`).
    package var message: String

    /// A record error.
    package init(batchIndex: Int32, message: String) {
        self.batchIndex = batchIndex
        self.message = message
    }
}

/// Records that do not parse or that Kafka would refuse: the error code to answer with, a
/// message for the response's `ErrorMessage`, and per-record errors when records were rejected.
package struct RecordsError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The Kafka error code.
    package var code: KafkaErrorCode
    /// What was wrong, in one line.
    package var message: String
    /// The rejected records, when validation rejected individual records.
    package var recordErrors: [RecordErrorDetail]

    /// An error with a code and a message.
    package init(_ code: KafkaErrorCode, _ message: String, recordErrors: [RecordErrorDetail] = []) {
        self.code = code
        self.message = message
        self.recordErrors = recordErrors
    }

    /// `CORRUPT_MESSAGE` with a message.
    package static func corrupt(_ message: String) -> RecordsError { RecordsError(.corruptMessage, message) }

    /// `INVALID_RECORD` with a message.
    package static func invalid(_ message: String) -> RecordsError { RecordsError(.invalidRecord, message) }

    /// The code's name and the message.
    package var description: String { "\(code.kafkaName): \(message)" }
}
