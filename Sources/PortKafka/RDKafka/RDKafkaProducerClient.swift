import CRdKafka
import Dispatch
import Logging

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The librdkafka side of a producer: the handle, its polling thread and its lifecycle.
final class RDKafkaProducerClient: Sendable {
    /// The producer's handle.
    let handle: RDKafkaHandle
    /// Running, closing or closed; guards every call into the handle.
    private let lifecycle = RDKafkaLifecycle()
    /// Signalled once the polling thread has served its last reports.
    private let pollThreadStopped = DispatchSemaphore(value: 0)
    /// Tells the polling thread to stop.
    private let stopPolling = StopFlag()
    /// Where flushes, metadata and admin calls wait, off Swift's cooperative pool.
    let blocking = RDKafkaBlockingQueue(label: "kafka.producer.blocking")

    /// Creates the producer's handle, which reports each delivery to its sender, and starts
    /// the thread that serves those reports.
    init(properties: [String: String], logger: Logger) throws {
        handle = try RDKafkaHandle.make(
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

    /// Starts the thread that serves delivery reports until `stopPolling` is set.
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
                throwing: RDKafkaError.kafkaError(message.err, context: "delivery to '\(waiter.topic)' failed")
            )
        }
    }

    /// Sends one message and waits for its delivery report.
    func send(_ message: KafkaProducerMessage) async throws -> KafkaDeliveryReport {
        try await withCheckedThrowingContinuation { continuation in
            // Checked and produced in one step: a close cannot destroy the handle between.
            guard lifecycle.whileRunning({ produce(message, continuation) }) != nil else {
                continuation.resume(throwing: KafkaError.closed("the producer"))
                return
            }
        }
    }

    /// Hands one message to librdkafka, its waiter riding along as the message's opaque;
    /// a message librdkafka refuses fails the call at once.
    private func produce(
        _ message: KafkaProducerMessage,
        _ continuation: CheckedContinuation<KafkaDeliveryReport, any Error>
    ) {
        let waiter = Unmanaged.passRetained(DeliveryWaiter(topic: message.topic, continuation: continuation))
        let headers = RDKafkaMessage.headerList(message.headers)
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
                throwing: RDKafkaError.kafkaError(error, context: "producing to '\(message.topic)' failed")
            )
        }
    }

    /// The number of messages and requests still waiting to be delivered; 0 once closing.
    var outstandingCount: Int { lifecycle.whileRunning { Int(rd_kafka_outq_len(handle.pointer)) } ?? 0 }

    /// Waits until every queued message is delivered or has failed, for up to `timeout`.
    func flush(timeout: Duration) async throws {
        guard !lifecycle.isClosed else { throw KafkaError.closed("the producer") }
        let handle = handle
        let error = try await blocking.run {
            rd_kafka_flush(handle.pointer, Int32(clamping: timeout.wholeMilliseconds))
        }
        if error != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw RDKafkaError.kafkaError(error, context: "flush did not finish within \(timeout)")
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

/// A pending delivery, passed to librdkafka as the message's opaque pointer.
private final class DeliveryWaiter: Sendable {
    /// The topic the message was sent to, for the report.
    let topic: String
    /// The sender, waiting for the report.
    let continuation: CheckedContinuation<KafkaDeliveryReport, any Error>

    /// Creates the waiter of one message.
    init(topic: String, continuation: CheckedContinuation<KafkaDeliveryReport, any Error>) {
        self.topic = topic
        self.continuation = continuation
    }
}
