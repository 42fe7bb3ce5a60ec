import KafkaProtocol
import KafkaRecords
import NIOCore
import Testing

/// A producer's uncompressed batch with values "p0", "p1", … and the given timestamps.
func produced(_ timestamps: [Int64], prefix: String = "p") -> ByteBuffer {
    var builder = RecordBatchBuilder()
    for (index, timestamp) in timestamps.enumerated() {
        builder.append(timestamp: timestamp, key: nil, value: ByteBuffer(string: "\(prefix)\(index)"))
    }
    return builder.build()!.buffer
}

/// The error `body` throws as a `RecordsError`, or nil.
func recordsError(_ body: () throws -> Void) -> RecordsError? {
    do {
        try body()
        return nil
    } catch let error as RecordsError {
        return error
    } catch {
        Issue.record("not a RecordsError: \(error)")
        return nil
    }
}
