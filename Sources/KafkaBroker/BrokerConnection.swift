import Synchronization

/// An advertised broker address: what Metadata and FindCoordinator answers give clients.
package struct KafkaBrokerAddress: Sendable, Hashable {
    /// The host clients connect to.
    package var host: String
    /// The listener's port.
    package var port: Int32

    /// The address `host:port`.
    package init(host: String, port: Int32) {
        self.host = host
        self.port = port
    }
}

/// What the broker knows of one authenticated client connection: who it is, which node and
/// listener it reached, and the refusals already reported on it (each once).
package final class BrokerConnection: Sendable {
    /// The Kafka user (the plaintext listener's configured principal, or the SCRAM user).
    package let principal: String
    /// The listener's name for refusals: `PLAINTEXT`, `SASL_SSL`, `INTERNAL`.
    package let listener: String
    /// The node this connection reached.
    package let nodeID: Int32
    /// Every node's address on this connection's kind of listener.
    package let addresses: [Int32: KafkaBrokerAddress]
    /// The client's address, for DescribeGroups.
    package let clientHost: String
    /// Port's ACLs for this connection (disabled on the internal listener).
    package let acl: KafkaACL
    private let reported = Mutex<Set<String>>([])
    private let onRefusal: @Sendable (KafkaRefusal) -> Void

    /// A connection of `principal` to node `nodeID` through `listener`.
    package init(
        principal: String,
        listener: String,
        nodeID: Int32,
        addresses: [Int32: KafkaBrokerAddress],
        clientHost: String,
        acl: KafkaACL,
        onRefusal: @escaping @Sendable (KafkaRefusal) -> Void
    ) {
        self.principal = principal
        self.listener = listener
        self.nodeID = nodeID
        self.addresses = addresses
        self.clientHost = clientHost
        self.acl = acl
        self.onRefusal = onRefusal
    }

    /// Whether the principal may describe and read `topic`; a refusal is reported.
    package func mayRead(_ topic: String, api: String) -> Bool {
        if acl.allowsRead(topic) { return true }
        report(.read(topic, api: api, principal: principal, listener: listener, acl: acl))
        return false
    }

    /// Whether the principal may write `topic`; a refusal is reported.
    package func mayWrite(_ topic: String, api: String) -> Bool {
        if acl.allowsWrite { return true }
        report(.write(topic, api: api, principal: principal, listener: listener))
        return false
    }

    /// Whether the principal may use `group`; a refusal is reported.
    package func mayUseGroup(_ group: String, api: String) -> Bool {
        if acl.allowsGroup(group, principal: principal) { return true }
        report(.group(group, api: api, principal: principal, listener: listener, acl: acl))
        return false
    }

    /// Whether the principal may do idempotent or transactional writes; a refusal is reported.
    package func mayUseCluster(api: String) -> Bool {
        if !acl.enabled { return true }
        report(.cluster(api: api, principal: principal, listener: listener))
        return false
    }

    /// Whether the principal may use transactional id `id`; a refusal is reported.
    package func mayUseTransactionalID(_ id: String, api: String) -> Bool {
        if !acl.enabled { return true }
        report(.transactionalID(id, api: api, principal: principal, listener: listener))
        return false
    }

    /// Reports a refusal once per connection, API and resource.
    package func report(_ refusal: KafkaRefusal) {
        guard reported.withLock({ $0.insert("\(refusal.api)|\(refusal.resource)").inserted }) else { return }
        onRefusal(refusal)
    }
}
