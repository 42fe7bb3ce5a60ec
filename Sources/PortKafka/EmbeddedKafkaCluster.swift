public import Logging

#if canImport(Glibc)
import Glibc
#endif

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
    public static let disconnect = KafkaResponseCode(rawValue: RDKafkaError.transportCode)
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
        guard let code = RDKafkaError.code(named: name) else { return nil }
        rawValue = code
    }

    /// librdkafka's name for the code.
    public var description: String { RDKafkaError.name(of: rawValue) }
}

/// An in-process Kafka cluster: librdkafka's mock cluster, speaking the real wire protocol
/// on 127.0.0.1 with random ports.
///
/// It supports producers, balanced consumer groups and offset commits. It has no SASL or
/// TLS and no CreateTopics API: create topics with `createTopic(_:partitions:)`. Each
/// partition keeps only about the last 5 MiB of messages (librdkafka 2.0's mock log); older
/// ones are dropped, and a consumer group that starts later begins at the oldest kept one.
public final class EmbeddedKafkaCluster: Sendable {
    private let cluster: RDKafkaMockCluster

    /// The number of brokers, with ids 1 through `brokerCount`.
    public let brokerCount: Int
    /// The comma-separated `host:port` list of the brokers, as clients' `bootstrap.servers`.
    public let bootstrapServers: String

    private init(cluster: RDKafkaMockCluster, brokerCount: Int) {
        self.cluster = cluster
        self.brokerCount = brokerCount
        bootstrapServers = cluster.bootstrapServers
    }

    /// Starts a cluster with `brokers` brokers listening on 127.0.0.1.
    public static func start(
        brokers: Int = 1,
        logger: Logger = Logger(label: "kafka.embedded")
    ) throws -> EmbeddedKafkaCluster {
        guard brokers >= 1 else {
            throw KafkaError(code: .invalidConfiguration, reason: "an embedded cluster needs at least one broker")
        }
        return EmbeddedKafkaCluster(
            cluster: try RDKafkaMockCluster(brokers: brokers, logger: logger),
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
        try cluster.createTopic(name, partitions: partitions, replicationFactor: replicationFactor)
    }

    /// Makes the next `errors.count` requests of `api` fail with these codes, in order.
    public func pushRequestErrors(_ api: KafkaAPIKey, _ errors: [KafkaResponseCode]) {
        try? cluster.pushRequestErrors(api.rawValue, errors.map(\.rawValue))
    }

    /// Removes every injected request error for `api`.
    public func clearRequestErrors(_ api: KafkaAPIKey) {
        try? cluster.clearRequestErrors(api.rawValue)
    }

    /// Disconnects broker `id` and refuses new connections to it until `setBrokerUp`.
    public func setBrokerDown(_ id: Int32) throws {
        try cluster.setBrokerDown(id)
    }

    /// Lets broker `id` accept connections again; after `stop()` it throws instead.
    public func setBrokerUp(_ id: Int32) throws {
        try cluster.setBrokerUp(id)
    }

    /// Delays every response of broker `id` by `delay` (zero removes the delay).
    public func setRoundTripTime(broker id: Int32, _ delay: Duration) throws {
        try cluster.setRoundTripTime(broker: id, delay)
    }

    /// Stops the brokers from a task, on a thread outside Swift's cooperative pool.
    public func stop() async {
        _ = try? await RDKafkaBlockingQueue(label: "kafka.embedded.stop").run { [self] in shutdown() }
    }

    /// Stops the brokers, blocking the calling thread for as long as librdkafka needs;
    /// clients still connected see their connections drop. Calls made after it throw, and
    /// calls already inside the cluster finish first.
    public func shutdown() {
        cluster.destroy()
    }
}
