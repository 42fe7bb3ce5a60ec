/// One member of a classic group (Kafka's `MemberMetadata`): what it joined with, the requests it
/// has parked, and its session.
package struct GroupMember: Sendable {
    /// The member id; a static member's changes when its instance rejoins without it.
    package var memberId: String
    /// The static member's group instance id, nil for a dynamic member.
    package let groupInstanceId: String?
    /// The client id it joined with.
    package let clientId: String
    /// The client address it joined from.
    package let clientHost: String
    /// Its rebalance timeout: how long a rebalance waits for it to rejoin and sync.
    package var rebalanceTimeout: Duration
    /// Its session timeout: how long it stays without a heartbeat.
    package var sessionTimeout: Duration
    /// The protocol type it joined with.
    package let protocolType: String
    /// Its protocols in order of preference.
    package var protocols: [GroupProtocol]
    /// Its assignment in the current generation (empty until the leader assigns).
    package var assignment: [UInt8] = []
    /// The ticket of its JoinGroup awaiting the end of the rebalance.
    package var joinTicket: GroupTicket?
    /// The ticket of its SyncGroup awaiting the leader's assignment.
    package var syncTicket: GroupTicket?
    /// Joined during the current rebalance: it is dropped when its join waits longer than the new
    /// member join timeout, whatever its session timeout.
    package var isNew = false
    /// When its session expires unless a heartbeat (or a commit, or a sync) renews it; nil while
    /// the session is suspended (Kafka's completed `DelayedHeartbeat`).
    package var heartbeatDeadline: Duration?

    /// A member from its JoinGroup.
    package init(memberId: String, groupInstanceId: String?, request: JoinGroupRequest, joinTicket: GroupTicket?) {
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.clientId = request.clientId
        self.clientHost = request.clientHost
        self.rebalanceTimeout = .kafkaMilliseconds(request.effectiveRebalanceTimeoutMs)
        self.sessionTimeout = .kafkaMilliseconds(request.sessionTimeoutMs)
        self.protocolType = request.protocolType
        self.protocols = request.protocols
        self.joinTicket = joinTicket
    }

    /// Whether an expired session leaves the member in place: a member awaiting its join or sync
    /// answer cannot heartbeat, so Kafka keeps it, unless it is new.
    package var hasSatisfiedHeartbeat: Bool { !isNew && (joinTicket != nil || syncTicket != nil) }

    /// Whether `protocols` equals the member's, names and metadata in order (Kafka's `matches`).
    package func matches(_ protocols: [GroupProtocol]) -> Bool { self.protocols == protocols }

    /// The member's metadata for a protocol: the first entry of that name.
    package func metadata(for protocolName: String) -> [UInt8] {
        protocols.first { $0.name == protocolName }?.metadata ?? []
    }

    /// The member's vote among candidate protocols: the first of its own it finds among them.
    package func vote(among candidates: Set<String>) -> String? {
        protocols.first { candidates.contains($0.name) }?.name
    }
}
