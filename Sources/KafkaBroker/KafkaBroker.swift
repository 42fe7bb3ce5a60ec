package import KafkaProtocol
package import NIOCore
import Synchronization

/// What the broker is made of: its nodes, cluster id, group timing and log bounds.
package struct KafkaBrokerConfiguration: Sendable {
    /// Nodes (broker ids 1…n); partitions and group coordinators are spread over them.
    package var nodeCount = 1
    /// The group coordinator's settings (Kafka's defaults: a 3 s initial rebalance delay,
    /// session timeouts from 6 s to 30 minutes).
    package var groups = GroupSettings()
    /// The cluster id Metadata answers carry.
    package var clusterID = "port-emulator-kafka"
    /// Each partition's byte budget (Kafka's `retention.bytes`): past it the oldest batches go.
    package var retentionBytes = PartitionLog.defaultRetentionBytes

    /// A configuration with the defaults.
    package init() {}
}

/// A Kafka broker of our own, as Apache Kafka 3.9 serves its clients: every version of the
/// consumer's and a simple producer's APIs (`KafkaProtocol`'s schemas), a partition log,
/// a classic group coordinator with Kafka's timing, and Port's ACLs. It speaks requests and
/// answers; the front owns sockets, TLS and SASL.
package final class KafkaBroker: Sendable {
    /// The configuration it was made with.
    package let configuration: KafkaBrokerConfiguration
    let state: Mutex<BrokerState>
    /// When the broker started: the coordinator's clock counts from here.
    let started = ContinuousClock.now
    /// Wakes `run()` when a group call moved the coordinator's next deadline.
    let groupTimer = WakeSignal()

    /// A broker with no topics.
    package init(configuration: KafkaBrokerConfiguration = KafkaBrokerConfiguration()) {
        self.configuration = configuration
        state = Mutex(BrokerState(coordinator: GroupCoordinator(settings: configuration.groups)))
    }

    /// The ids of the broker's nodes.
    package var nodeIDs: [Int32] { (1...Int32(max(1, configuration.nodeCount))).map { $0 } }

    /// The node that leads `partition` (partitions go round the nodes).
    func leader(of partition: Int32) -> Int32 { partition % Int32(nodeIDs.count) + 1 }

    /// The node that coordinates `key` (a group id or transactional id).
    func coordinator(of key: String) -> Int32 {
        var hash: Int32 = 0  // Java's String.hashCode, as Kafka spreads groups
        for unit in key.utf16 { hash = hash &* 31 &+ Int32(unit) }
        return Int32(Int(hash.magnitude) % nodeIDs.count) + 1
    }

    /// Serves one request of an authenticated connection: its answer frame, nil when the
    /// request wants none (Produce with acks 0). A request that does not decode, or an API
    /// or version not served, throws: the front closes the connection, as Kafka does (an
    /// ApiVersions version not served is answered in version 0, as Kafka answers it).
    package func handle(
        _ request: KafkaRequest,
        on connection: BrokerConnection
    ) async throws(KafkaWireError) -> ByteBuffer? {
        guard let schema = KafkaSchemas.requests[request.apiKey],
            let responseSchema = KafkaSchemas.responses[request.apiKey]
        else { throw KafkaWireError("API key \(request.apiKey) is not served") }
        let version = request.apiVersion
        if request.apiKey == KafkaAPI.apiVersions, !schema.valid.contains(version) {
            // A version Kafka does not serve is answered unparsed, in version 0's layout.
            let answer = Self.apiVersions(version: version)
            return request.response(try KafkaCodec.encode(answer, as: responseSchema, version: 0))
        }
        var body = request.body
        // Bytes after the request are ignored, as Kafka ignores them.
        let decoded = try KafkaCodec.decode(schema, version: version, from: &body, trailingBytes: true)
        let call = BrokerCall(request: request, body: decoded, connection: connection)
        let answer: KafkaStruct?
        if let injected = takeInjectedError(request.apiKey) {
            answer = errorAnswer(to: call, injected)
        } else {
            answer = await serve(call)
        }
        guard let answer else { return nil }
        await delayIfAsked()
        return request.response(try KafkaCodec.encode(answer, as: responseSchema, version: version))
    }

    private func serve(_ call: BrokerCall) async -> KafkaStruct? {
        switch call.request.apiKey {
        case KafkaAPI.apiVersions: Self.apiVersions(version: call.version)
        case KafkaAPI.metadata: metadata(call)
        case KafkaAPI.findCoordinator: findCoordinator(call)
        case KafkaAPI.produce: produce(call)
        case KafkaAPI.fetch: await fetch(call)
        case KafkaAPI.listOffsets: listOffsets(call)
        case KafkaAPI.offsetForLeaderEpoch: offsetForLeaderEpoch(call)
        case KafkaAPI.joinGroup: await joinGroup(call)
        case KafkaAPI.syncGroup: await syncGroup(call)
        case KafkaAPI.heartbeat: await heartbeat(call)
        case KafkaAPI.leaveGroup: await leaveGroup(call)
        case KafkaAPI.offsetCommit: await offsetCommit(call)
        case KafkaAPI.offsetFetch: offsetFetch(call)
        case KafkaAPI.describeGroups: describeGroups(call)
        case KafkaAPI.listGroups: listGroups(call)
        case KafkaAPI.initProducerID: initProducerID(call)
        case KafkaAPI.addPartitionsToTxn, KafkaAPI.addOffsetsToTxn, KafkaAPI.endTxn, KafkaAPI.txnOffsetCommit:
            transactional(call)
        default: errorAnswer(to: call, .unsupportedVersion)
        }
    }
}

/// One request being served: its decoded body and its connection.
struct BrokerCall: Sendable {
    let request: KafkaRequest
    let body: KafkaStruct
    let connection: BrokerConnection

    var version: Int16 { request.apiVersion }
    var api: String { request.apiName }
}

/// The broker's mutable state, under its lock.
struct BrokerState {
    var topics = TopicRegistry()
    var coordinator: GroupCoordinator
    /// Group calls waiting for the coordinator's reply, by ticket.
    var parked: [GroupTicket: CheckedContinuation<GroupReply.Body?, Never>] = [:]
    var nextTicket: GroupTicket = 0
    /// Tickets cancelled before they were parked.
    var cancelledTickets: Set<GroupTicket> = []
    /// Moves on at every append; long-poll fetches wait for it to move.
    var appends: UInt64 = 0
    var fetchWaiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    var nextWaiterID: UInt64 = 0
    var cancelledWaiters: Set<UInt64> = []
    var nextProducerID: Int64 = 1000
    var injectedErrors: [Int16: [KafkaErrorCode]] = [:]
    var roundTrip: Duration = .zero
    var downNodes: Set<Int32> = []
}
