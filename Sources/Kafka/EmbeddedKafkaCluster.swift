import CRdKafka
import Logging
import Synchronization

/// A Kafka protocol request type, for targeting injected faults.
public struct KafkaAPIKey: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The protocol's numeric API key.
    public let rawValue: Int16

    /// Wraps a numeric API key.
    public init(rawValue: Int16) { self.rawValue = rawValue }

    /// ProduceRequest.
    public static let produce = KafkaAPIKey(rawValue: 0)
    /// FetchRequest.
    public static let fetch = KafkaAPIKey(rawValue: 1)
    /// ListOffsetsRequest.
    public static let listOffsets = KafkaAPIKey(rawValue: 2)
    /// MetadataRequest.
    public static let metadata = KafkaAPIKey(rawValue: 3)
    /// OffsetCommitRequest.
    public static let offsetCommit = KafkaAPIKey(rawValue: 8)
    /// OffsetFetchRequest.
    public static let offsetFetch = KafkaAPIKey(rawValue: 9)
    /// FindCoordinatorRequest.
    public static let findCoordinator = KafkaAPIKey(rawValue: 10)
    /// JoinGroupRequest.
    public static let joinGroup = KafkaAPIKey(rawValue: 11)
    /// HeartbeatRequest.
    public static let heartbeat = KafkaAPIKey(rawValue: 12)
    /// LeaveGroupRequest.
    public static let leaveGroup = KafkaAPIKey(rawValue: 13)
    /// SyncGroupRequest.
    public static let syncGroup = KafkaAPIKey(rawValue: 14)

    private static let names: [Int16: String] = [
        0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata", 8: "OffsetCommit", 9: "OffsetFetch",
        10: "FindCoordinator", 11: "JoinGroup", 12: "Heartbeat", 13: "LeaveGroup", 14: "SyncGroup",
    ]

    /// The API named as in the Kafka protocol guide (`Produce`, `Fetch`, `OffsetCommit`…),
    /// matched without regard to case; nil for a name it does not know.
    public init?(name: String) {
        guard let key = Self.names.first(where: { $0.value.lowercased() == name.lowercased() })?.key else {
            return nil
        }
        rawValue = key
    }

    /// Every API a fault can target, by name.
    public static var knownNames: [String] { names.sorted { $0.key < $1.key }.map(\.value) }

    /// The API's name, as in the Kafka protocol guide.
    public var description: String { Self.names[rawValue] ?? "ApiKey(\(rawValue))" }
}

/// A Kafka error code a broker answers with, for injected faults.
public struct KafkaResponseCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// librdkafka's `rd_kafka_resp_err_t` value (broker codes are positive, local ones negative).
    public let rawValue: Int32

    /// Wraps a librdkafka error code.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The broker drops the connection instead of answering.
    public static let disconnect = KafkaResponseCode(rawValue: RD_KAFKA_RESP_ERR__TRANSPORT.rawValue)
    /// UNKNOWN_TOPIC_OR_PARTITION (3).
    public static let unknownTopicOrPartition = KafkaResponseCode(rawValue: 3)
    /// NOT_LEADER_FOR_PARTITION (6).
    public static let notLeaderForPartition = KafkaResponseCode(rawValue: 6)
    /// REQUEST_TIMED_OUT (7).
    public static let requestTimedOut = KafkaResponseCode(rawValue: 7)
    /// COORDINATOR_NOT_AVAILABLE (15).
    public static let coordinatorNotAvailable = KafkaResponseCode(rawValue: 15)
    /// NOT_COORDINATOR (16).
    public static let notCoordinator = KafkaResponseCode(rawValue: 16)
    /// NOT_ENOUGH_REPLICAS (19).
    public static let notEnoughReplicas = KafkaResponseCode(rawValue: 19)
    /// REBALANCE_IN_PROGRESS (27).
    public static let rebalanceInProgress = KafkaResponseCode(rawValue: 27)

    /// The code librdkafka names so (`NOT_LEADER_FOR_PARTITION`, `REQUEST_TIMED_OUT`,
    /// `_TRANSPORT`…), matched without regard to case; nil for a name it does not know.
    public init?(name: String) {
        var descriptions: UnsafePointer<rd_kafka_err_desc>?
        var count = 0
        rd_kafka_get_err_descs(&descriptions, &count)
        guard let descriptions else { return nil }
        let wanted = name.uppercased()
        for index in 0..<count {
            guard let cName = descriptions[index].name, String(cString: cName) == wanted else { continue }
            rawValue = descriptions[index].code.rawValue
            return
        }
        return nil
    }

    /// librdkafka's name for the code.
    public var description: String { String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue: rawValue))) }
}

/// An in-process Kafka cluster: librdkafka's mock cluster, speaking the real wire protocol
/// on 127.0.0.1 with random ports.
///
/// It supports producers, balanced consumer groups and offset commits. It has no SASL or
/// TLS and no CreateTopics API: create topics with `createTopic(_:partitions:)`. Each
/// partition keeps only about the last 5 MiB of messages (librdkafka 2.0's mock log); older
/// ones are dropped, and a consumer group that starts later begins at the oldest kept one.
public final class EmbeddedKafkaCluster: Sendable {
    private let owner: RDKafkaHandle
    private let ownerContext: Unmanaged<RDKafkaCallbackContext>
    private let cluster: RDKafkaMockCluster
    private let isStopped = Mutex(false)

    /// The number of brokers, with ids 1 through `brokerCount`.
    public let brokerCount: Int
    /// The comma-separated `host:port` list of the brokers, as clients' `bootstrap.servers`.
    public let bootstrapServers: String

    private init(
        owner: RDKafkaHandle,
        ownerContext: Unmanaged<RDKafkaCallbackContext>,
        cluster: RDKafkaMockCluster,
        brokerCount: Int
    ) {
        self.owner = owner
        self.ownerContext = ownerContext
        self.cluster = cluster
        self.brokerCount = brokerCount
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster.pointer))
    }

    /// Starts a cluster with `brokers` brokers listening on 127.0.0.1.
    public static func start(
        brokers: Int = 1,
        logger: Logger = Logger(label: "kafka.embedded")
    ) throws -> EmbeddedKafkaCluster {
        guard brokers >= 1 else {
            throw KafkaError(code: .invalidConfiguration, reason: "an embedded cluster needs at least one broker")
        }
        // The mock cluster is book-kept by a client handle that never connects anywhere.
        let (owner, context) = try RDKafkaFactory.makeHandle(
            type: RD_KAFKA_PRODUCER,
            properties: ["client.id": "embedded-kafka-owner", "log.connection.close": "false", "log_level": "3"],
            logger: logger
        )
        guard let pointer = rd_kafka_mock_cluster_new(owner.pointer, Int32(brokers)) else {
            rd_kafka_destroy(owner.pointer)
            context.release()
            throw KafkaError(code: .mockCluster, reason: "rd_kafka_mock_cluster_new failed to start \(brokers) brokers")
        }
        return EmbeddedKafkaCluster(
            owner: owner,
            ownerContext: context,
            cluster: RDKafkaMockCluster(pointer: pointer),
            brokerCount: brokers
        )
    }

    /// The bootstrap servers as a list, one `host:port` per broker.
    public var bootstrapServerList: [String] { bootstrapServers.split(separator: ",").map(String.init) }

    /// Creates a topic with the given number of partitions spread over the brokers.
    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws {
        guard partitions >= 1, replicationFactor >= 1, replicationFactor <= brokerCount else {
            throw KafkaError(
                code: .mockCluster,
                reason: "topic '\(name)' needs partitions >= 1 and 1 <= replication factor <= \(brokerCount)"
            )
        }
        try check(
            rd_kafka_mock_topic_create(cluster.pointer, name, Int32(partitions), Int32(replicationFactor)),
            "creating topic '\(name)'"
        )
    }

    /// Makes the next `errors.count` requests of `api` fail with these codes, in order.
    public func pushRequestErrors(_ api: KafkaAPIKey, _ errors: [KafkaResponseCode]) {
        let codes = errors.map { rd_kafka_resp_err_t(rawValue: $0.rawValue) }
        codes.withUnsafeBufferPointer {
            rd_kafka_mock_push_request_errors_array(cluster.pointer, api.rawValue, $0.count, $0.baseAddress)
        }
    }

    /// Removes every injected request error for `api`.
    public func clearRequestErrors(_ api: KafkaAPIKey) {
        rd_kafka_mock_clear_request_errors(cluster.pointer, api.rawValue)
    }

    /// Disconnects broker `id` and refuses new connections to it until `setBrokerUp`.
    public func setBrokerDown(_ id: Int32) throws {
        try check(rd_kafka_mock_broker_set_down(cluster.pointer, id), "taking broker \(id) down")
    }

    /// Lets broker `id` accept connections again.
    public func setBrokerUp(_ id: Int32) throws {
        try check(rd_kafka_mock_broker_set_up(cluster.pointer, id), "bringing broker \(id) up")
    }

    /// Delays every response of broker `id` by `delay` (zero removes the delay).
    public func setRoundTripTime(broker id: Int32, _ delay: Duration) throws {
        try check(
            rd_kafka_mock_broker_set_rtt(cluster.pointer, id, Int32(clamping: delay.wholeMilliseconds)),
            "setting the round-trip time of broker \(id)"
        )
    }

    /// Stops the brokers from a task, on a thread outside Swift's cooperative pool.
    public func stop() async {
        _ = try? await RDKafkaBlockingQueue(label: "kafka.embedded.stop").run { [self] in shutdown() }
    }

    /// Stops the brokers, blocking the calling thread for as long as librdkafka needs;
    /// clients still connected see their connections drop.
    public func shutdown() {
        let wasStopped = isStopped.withLock { stopped in
            defer { stopped = true }
            return stopped
        }
        guard !wasStopped else { return }
        rd_kafka_mock_cluster_destroy(cluster.pointer)
        rd_kafka_destroy(owner.pointer)
        ownerContext.release()
    }

    private func check(_ error: rd_kafka_resp_err_t, _ what: String) throws {
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            let detail = KafkaError.fromResponse(error, context: "\(what) failed")
            throw KafkaError(code: .mockCluster, reason: detail.reason, librdkafkaCode: detail.librdkafkaCode)
        }
    }

    deinit {
        shutdown()
    }
}

/// The mock cluster's pointer; librdkafka synchronizes access to it internally.
struct RDKafkaMockCluster: @unchecked Sendable {
    let pointer: OpaquePointer
}
