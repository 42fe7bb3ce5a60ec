public import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Produces messages and reports each delivery as the result of an `async` call.
///
/// librdkafka serves delivery reports from a dedicated polling thread, so `send` never blocks
/// Swift's cooperative thread pool. Close the producer with `close(timeout:)` to deliver
/// what is still queued; dropping the last reference without closing stops the delivery
/// thread and frees the handle, never waiting (messages still queued are lost).
public final class KafkaProducer: Sendable {
    let client: RDKafkaProducerClient

    private init(client: RDKafkaProducerClient) {
        self.client = client
    }

    /// Creates a producer and starts its delivery-report thread.
    public static func make(
        configuration: KafkaProducerConfiguration,
        logger: Logger = Logger(label: "kafka.producer")
    ) throws -> KafkaProducer {
        KafkaProducer(client: try RDKafkaProducerClient(properties: configuration.librdkafkaProperties, logger: logger))
    }

    /// Sends one message and waits until the brokers acknowledge it, or until it fails.
    ///
    /// While the brokers are unreachable the call waits, up to the configured message timeout;
    /// then it throws a retriable `KafkaError` with code `.messageTimedOut`.
    @discardableResult
    public func send(_ message: KafkaProducerMessage) async throws -> KafkaDeliveryReport {
        try await client.send(message)
    }

    /// Waits until every queued message is delivered or has failed.
    public func flush(timeout: Duration = .seconds(30)) async throws {
        try await client.flush(timeout: timeout)
    }

    /// The number of messages and requests still waiting to be delivered.
    public var outstandingCount: Int { client.outstandingCount }

    /// Flushes for up to `timeout`, fails what is left with `.purged`, and releases the client.
    public func close(timeout: Duration = .seconds(30)) async {
        await client.close(timeout: timeout)
    }
}
