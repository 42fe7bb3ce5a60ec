import CRdKafka
import Dispatch
import Foundation
public import Logging
import Synchronization

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

/// A pending delivery, passed to librdkafka as the message's opaque pointer.
private final class DeliveryWaiter: Sendable {
    let topic: String
    let continuation: CheckedContinuation<KafkaDeliveryReport, any Error>

    init(topic: String, continuation: CheckedContinuation<KafkaDeliveryReport, any Error>) {
        self.topic = topic
        self.continuation = continuation
    }
}

/// The librdkafka side of a producer: the handle, its polling thread and its lifecycle.
final class RDKafkaProducerClient: Sendable {
    let handle: RDKafkaHandle
    private let lifecycle = RDKafkaLifecycle()
    private let pollThreadStopped = DispatchSemaphore(value: 0)
    private let stopPolling = StopFlag()
    let blocking = RDKafkaBlockingQueue(label: "kafka.producer.blocking")

    init(properties: [String: String], logger: Logger) throws {
        handle = try RDKafkaFactory.makeHandle(
            type: RD_KAFKA_PRODUCER,
            properties: properties,
            logger: logger
        ) { conf in
            rd_kafka_conf_set_dr_msg_cb(conf) { _, message, _ in
                guard let message else { return }
                RDKafkaProducerClient.deliver(message.pointee)
            }
        }
        startPollThread()
    }

    private func startPollThread() {
        let handle = handle
        let stop = stopPolling
        let stopped = pollThreadStopped
        DispatchQueue(label: "kafka.producer.poll").async {
            // A short slice: rd_kafka_yield does not wake a poll waiting on an empty queue,
            // and closing waits for this loop to notice the stop flag. The loop holds the
            // handle's owner: the handle outlives it.
            while !stop.isSet {
                rd_kafka_poll(handle.pointer, 10)
            }
            rd_kafka_poll(handle.pointer, 0)
            stopped.signal()
        }
    }

    /// Resumes the waiter of one delivered (or failed) message.
    private static func deliver(_ message: rd_kafka_message_t) {
        guard let opaque = message._private else { return }
        let waiter = Unmanaged<DeliveryWaiter>.fromOpaque(opaque).takeRetainedValue()
        if message.err == RD_KAFKA_RESP_ERR_NO_ERROR {
            waiter.continuation.resume(
                returning: KafkaDeliveryReport(
                    topic: waiter.topic,
                    partition: message.partition,
                    offset: message.offset
                )
            )
        } else {
            waiter.continuation.resume(
                throwing: KafkaError.fromResponse(message.err, context: "delivery to '\(waiter.topic)' failed")
            )
        }
    }

    func send(_ message: KafkaProducerMessage) async throws -> KafkaDeliveryReport {
        try await withCheckedThrowingContinuation { continuation in
            // Checked and produced in one step: a close cannot destroy the handle between.
            guard lifecycle.whileRunning({ produce(message, continuation) }) != nil else {
                continuation.resume(throwing: KafkaError.closed("the producer"))
                return
            }
        }
    }

    private func produce(
        _ message: KafkaProducerMessage,
        _ continuation: CheckedContinuation<KafkaDeliveryReport, any Error>
    ) {
        let waiter = Unmanaged.passRetained(DeliveryWaiter(topic: message.topic, continuation: continuation))
        let headers = Self.makeHeaders(message.headers)
        let error = message.topic.withCString { topic in
            withOptionalBytes(message.value) { value, valueCount in
                withOptionalBytes(message.key) { key, keyCount in
                    crdkafka_produce(
                        handle.pointer,
                        topic,
                        message.partition ?? RD_KAFKA_PARTITION_UA,
                        value,
                        valueCount,
                        key,
                        keyCount,
                        headers,
                        waiter.toOpaque()
                    )
                }
            }
        }
        if error != RD_KAFKA_RESP_ERR_NO_ERROR {
            // librdkafka took no ownership: free the headers and fail the call at once.
            if let headers { rd_kafka_headers_destroy(headers) }
            waiter.release()
            continuation.resume(
                throwing: KafkaError.fromResponse(error, context: "producing to '\(message.topic)' failed")
            )
        }
    }

    private static func makeHeaders(_ headers: [KafkaHeader]) -> OpaquePointer? {
        guard !headers.isEmpty, let list = rd_kafka_headers_new(headers.count) else { return nil }
        for header in headers {
            _ = withOptionalBytes(header.value) { value, count in
                rd_kafka_header_add(list, header.key, -1, value, count)
            }
        }
        return list
    }

    var outstandingCount: Int { lifecycle.whileRunning { Int(rd_kafka_outq_len(handle.pointer)) } ?? 0 }

    func flush(timeout: Duration) async throws {
        guard !lifecycle.isClosed else { throw KafkaError.closed("the producer") }
        let handle = handle
        let error = try await blocking.run {
            rd_kafka_flush(handle.pointer, Int32(clamping: timeout.wholeMilliseconds))
        }
        if error != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError.fromResponse(error, context: "flush did not finish within \(timeout)")
        }
    }

    /// Flushes for up to `timeout`, fails what is left with `.purged` (serving those reports,
    /// so no sender waits forever) and stops the delivery thread. The handle is destroyed by
    /// its owner once the thread and every call have let it go.
    func close(timeout: Duration) async {
        guard lifecycle.beginClosing() else { return }
        _ = try? await blocking.run { [self] in
            lifecycle.waitForCallsToLeave()  // a send between its check and its produce
            rd_kafka_flush(handle.pointer, Int32(clamping: timeout.wholeMilliseconds))
            rd_kafka_purge(handle.pointer, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
            let deadline = ContinuousClock.now + .seconds(5)
            while rd_kafka_outq_len(handle.pointer) > 0, ContinuousClock.now < deadline {
                usleep(5000)  // the delivery thread serves the purged messages' reports
            }
            stopPolling.set()
            pollThreadStopped.wait()
            handle.silence()
            lifecycle.markClosed()
        }
    }

    deinit {
        // Not closed: stop the delivery thread without waiting; it drops the handle last.
        stopPolling.set()
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

/// A flag one thread sets and another polls.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    /// Raises the flag.
    func set() { flag.store(true, ordering: .releasing) }

    /// Whether the flag was raised.
    var isSet: Bool { flag.load(ordering: .acquiring) }
}
