import CRdKafka
import Dispatch
import Logging

/// The one owner of a mock cluster and of the client handle that keeps its books.
///
/// A locked lifecycle guards every call: `destroy()` lets the calls already inside leave
/// before it destroys the cluster, and refuses any later one, so a call racing a stop (a
/// fault's restore timer, say) gets an error, never a freed cluster. Dropping the last
/// reference without a stop destroys it on a queue of its own, never blocking the releaser.
final class RDKafkaMockCluster: Sendable {
    /// The `rd_kafka_mock_cluster_t`, boxed for the tasks and timers that call into it.
    private let cluster: SendablePointer<OpaquePointer>
    /// The client handle the cluster was created on; it must outlive the cluster.
    private let owner: RDKafkaHandle
    /// Running, closing or closed; guards every call into the cluster.
    private let lifecycle = RDKafkaLifecycle()
    /// The comma-separated `host:port` list of the brokers.
    let bootstrapServers: String

    /// Starts `brokers` mock brokers listening on 127.0.0.1 with random ports.
    init(brokers: Int, logger: Logger) throws {
        // The mock cluster is book-kept by a client handle that never connects anywhere.
        owner = try RDKafkaHandle.make(
            type: RD_KAFKA_PRODUCER,
            properties: ["client.id": "embedded-kafka-owner", "log.connection.close": "false", "log_level": "3"],
            logger: logger
        )
        guard let pointer = rd_kafka_mock_cluster_new(owner.pointer, Int32(brokers)) else {
            throw KafkaError(code: .mockCluster, reason: "rd_kafka_mock_cluster_new failed to start \(brokers) brokers")
        }
        cluster = SendablePointer(pointer)
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(pointer))
    }

    /// Creates a topic with `partitions` partitions of `replicationFactor` replicas each.
    func createTopic(_ name: String, partitions: Int, replicationFactor: Int) throws {
        try call("creating topic '\(name)'") {
            rd_kafka_mock_topic_create($0, name, Int32(partitions), Int32(replicationFactor))
        }
    }

    /// Makes the next `errors.count` requests of `api` fail with these codes, in order.
    func pushRequestErrors(_ api: Int16, _ errors: [Int32]) throws {
        let codes = errors.map { rd_kafka_resp_err_t(rawValue: $0) }
        try call("injecting request errors") { pointer in
            codes.withUnsafeBufferPointer {
                rd_kafka_mock_push_request_errors_array(pointer, api, $0.count, $0.baseAddress)
            }
            return RD_KAFKA_RESP_ERR_NO_ERROR
        }
    }

    /// Removes every injected request error for `api`.
    func clearRequestErrors(_ api: Int16) throws {
        try call("clearing request errors") { pointer in
            rd_kafka_mock_clear_request_errors(pointer, api)
            return RD_KAFKA_RESP_ERR_NO_ERROR
        }
    }

    /// Disconnects broker `id` and refuses new connections to it until `setBrokerUp`.
    func setBrokerDown(_ id: Int32) throws {
        try call("taking broker \(id) down") { rd_kafka_mock_broker_set_down($0, id) }
    }

    /// Lets broker `id` accept connections again.
    func setBrokerUp(_ id: Int32) throws {
        try call("bringing broker \(id) up") { rd_kafka_mock_broker_set_up($0, id) }
    }

    /// Delays every response of broker `id` by `delay` (zero removes the delay).
    func setRoundTripTime(broker id: Int32, _ delay: Duration) throws {
        try call("setting the round-trip time of broker \(id)") {
            rd_kafka_mock_broker_set_rtt($0, id, Int32(clamping: delay.wholeMilliseconds))
        }
    }

    /// Calls into the cluster unless it is stopped; librdkafka's error codes become `KafkaError`s.
    private func call(_ what: String, _ body: (OpaquePointer) -> rd_kafka_resp_err_t) throws {
        guard let error = lifecycle.whileRunning({ body(cluster.pointer) }) else {
            throw KafkaError(code: .mockCluster, reason: "\(what) failed: the embedded cluster is stopped")
        }
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            let detail = RDKafkaError.kafkaError(error, context: "\(what) failed")
            throw KafkaError(code: .mockCluster, reason: detail.reason, librdkafkaCode: detail.librdkafkaCode)
        }
    }

    /// Destroys the cluster once; blocks until the calls inside have left and librdkafka is done.
    func destroy() {
        guard lifecycle.beginClosing() else { return }
        lifecycle.waitForCallsToLeave()
        rd_kafka_mock_cluster_destroy(cluster.pointer)
        lifecycle.markClosed()
    }

    deinit {
        guard lifecycle.beginClosing() else { return }
        let cluster = cluster  // nothing else holds it any more
        let owner = owner
        DispatchQueue(label: "kafka.embedded.destroy").async {
            rd_kafka_mock_cluster_destroy(cluster.pointer)
            withExtendedLifetime(owner) {}
        }
    }
}
