/// The state of a classic group, spelled as DescribeGroups and ListGroups spell it.
package enum GroupState: String, Sendable, CaseIterable {
    /// No members; offsets may remain.
    case empty = "Empty"
    /// Waiting for the members to (re)join.
    case preparingRebalance = "PreparingRebalance"
    /// Waiting for the leader's assignment.
    case completingRebalance = "CompletingRebalance"
    /// Members have their assignments.
    case stable = "Stable"
    /// Removed; only ever reported for an unknown group.
    case dead = "Dead"
}

/// The rebalance timer of a group in PreparingRebalance (Kafka's `DelayedJoin`, or its
/// `InitialDelayedJoin` when the rebalance started from Empty).
package struct JoinTimer: Sendable, Equatable {
    /// When it fires.
    package var deadline: Duration
    /// For the initial delayed join: the length of this delay and what remains of the rebalance
    /// timeout after it. Nil for a regular join, which completes as soon as every member joined.
    package var initial: (delay: Duration, remaining: Duration)?

    /// A timer firing at `deadline`.
    package init(deadline: Duration, initial: (delay: Duration, remaining: Duration)? = nil) {
        self.deadline = deadline
        self.initial = initial
    }

    /// Timers are equal when they fire at the same time in the same way.
    package static func == (lhs: JoinTimer, rhs: JoinTimer) -> Bool {
        lhs.deadline == rhs.deadline && lhs.initial?.delay == rhs.initial?.delay
            && lhs.initial?.remaining == rhs.initial?.remaining
    }
}

/// A topic-partition, the key of committed offsets.
package struct GroupTopicPartition: Hashable, Sendable, Comparable {
    /// The topic name.
    package var topic: String
    /// The partition index.
    package var partition: Int32

    /// A topic-partition.
    package init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    /// Ordered by topic, then partition.
    package static func < (lhs: GroupTopicPartition, rhs: GroupTopicPartition) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }
}

/// A committed offset (Kafka's `OffsetAndMetadata`).
package struct CommittedOffset: Sendable, Equatable {
    /// The offset.
    package var offset: Int64
    /// The leader epoch, -1 for none.
    package var leaderEpoch: Int32
    /// The metadata, "" for none.
    package var metadata: String
    /// When it was committed.
    package var commitTime: Duration

    /// A committed offset.
    package init(offset: Int64, leaderEpoch: Int32, metadata: String, commitTime: Duration) {
        self.offset = offset
        self.leaderEpoch = leaderEpoch
        self.metadata = metadata
        self.commitTime = commitTime
    }
}

/// One classic group (Kafka's `GroupMetadata`): members in join order, static instance ids,
/// pending members, timers and offsets.
package struct ClassicGroup: Sendable {
    /// The group id.
    package let groupId: String
    /// The state.
    package var state: GroupState = .empty
    /// When the group entered its state.
    package var stateSince: Duration
    /// The protocol type, set by the first member and kept when the group empties.
    package var protocolType: String?
    /// The protocol selected for the current generation.
    package var protocolName: String?
    /// The generation; 0 before the first rebalance completes.
    package var generationId: Int32 = 0
    /// The leader's member id.
    package var leaderId: String?
    /// Member ids in the order they joined.
    package var memberIds: [String] = []
    /// Members by id.
    package var members: [String: GroupMember] = [:]
    /// Static members: group instance id to its current member id.
    package var staticMembers: [String: String] = [:]
    /// Member ids given with MEMBER_ID_REQUIRED and not yet joined, to when they expire.
    package var pendingMembers: [String: Duration] = [:]
    /// Members of the new generation that have not sent their SyncGroup yet.
    package var pendingSyncMembers: Set<String> = []
    /// A new member joined during the initial delayed join of generation 0.
    package var newMemberAdded = false
    /// The rebalance timer, in PreparingRebalance.
    package var joinTimer: JoinTimer?
    /// The sync timer (Kafka's `DelayedSync`): when members that have not synced are removed.
    package var syncTimer: (deadline: Duration, generation: Int32)?
    /// Committed offsets.
    package var offsets: [GroupTopicPartition: CommittedOffset] = [:]

    /// An Empty group created at `now`.
    package init(groupId: String, now: Duration) {
        self.groupId = groupId
        self.stateSince = now
    }

    /// The members in join order.
    package var orderedMembers: [GroupMember] { memberIds.compactMap { members[$0] } }

    /// How many members have a JoinGroup parked.
    package var awaitingJoinCount: Int { members.values.count { $0.joinTicket != nil } }

    /// Every member has rejoined and no member id handed out with MEMBER_ID_REQUIRED is outstanding.
    package var hasAllMembersJoined: Bool { members.count == awaitingJoinCount && pendingMembers.isEmpty }

    /// The group's rebalance timeout: the longest of its members'.
    package var rebalanceTimeout: Duration { members.values.map(\.rebalanceTimeout).max() ?? .zero }

    /// Moves to `state` at `now`.
    package mutating func transition(to state: GroupState, now: Duration) {
        self.state = state
        stateSince = now
    }

    /// Adds a member; the first one sets the protocol type and the first without a leader leads.
    package mutating func add(_ member: GroupMember) {
        if let instanceId = member.groupInstanceId { staticMembers[instanceId] = member.memberId }
        if members.isEmpty { protocolType = member.protocolType }
        if leaderId == nil { leaderId = member.memberId }
        members[member.memberId] = member
        memberIds.append(member.memberId)
        pendingMembers[member.memberId] = nil
    }

    /// Removes a member (or a pending member id) and returns the member removed, whose parked
    /// requests the caller must answer. A leaving leader passes the lead to the oldest member.
    package mutating func remove(_ memberId: String) -> GroupMember? {
        let removed = members.removeValue(forKey: memberId)
        if let removed {
            memberIds.removeAll { $0 == memberId }
            if let instanceId = removed.groupInstanceId { staticMembers[instanceId] = nil }
        }
        if leaderId == memberId { leaderId = memberIds.first }
        pendingMembers[memberId] = nil
        pendingSyncMembers.remove(memberId)
        return removed
    }

    /// How many protocol entries of all members name `protocolName` (Kafka's `supportedProtocols`).
    private func supportCount(_ protocolName: String) -> Int {
        members.values.reduce(0) { count, member in count + member.protocols.count { $0.name == protocolName } }
    }

    /// Whether a member with these protocols may join: any non-empty protocols of a non-empty type
    /// for an Empty group, else the group's type and one protocol every member supports.
    package func supportsProtocols(type: String, protocols: [GroupProtocol]) -> Bool {
        if state == .empty { return !type.isEmpty && !protocols.isEmpty }
        return protocolType == type && protocols.contains { supportCount($0.name) == members.count }
    }

    /// The protocol for the next generation: among the protocols all members support, the one most
    /// members prefer; a tie goes to the one the earliest member prefers.
    package func selectProtocol() -> String? {
        let candidates = Set(
            members.values.flatMap { $0.protocols.map(\.name) }.filter { supportCount($0) == members.count }
        )
        let votes = orderedMembers.compactMap { $0.vote(among: candidates) }
        var tally: [String: Int] = [:]
        for vote in votes { tally[vote, default: 0] += 1 }
        let most = tally.values.max() ?? 0
        return votes.first { tally[$0] == most }
    }

    /// Every member's metadata for the selected protocol, for the leader's JoinGroup response.
    package func currentMemberMetadata() -> [JoinGroupResponseMember] {
        orderedMembers.map {
            JoinGroupResponseMember(
                memberId: $0.memberId,
                groupInstanceId: $0.groupInstanceId,
                metadata: $0.metadata(for: protocolName ?? "")
            )
        }
    }

    /// Kafka's `validateCurrentMember`: with an instance id, it must map to this member id
    /// (FENCED_INSTANCE_ID when another holds it); without, the member id must be known.
    package func validateCurrentMember(_ memberId: String, instanceId: String?) -> GroupErrorCode? {
        if let instanceId {
            guard let current = staticMembers[instanceId] else { return .unknownMemberId }
            return current == memberId ? nil : .fencedInstanceId
        }
        return members[memberId] == nil ? .unknownMemberId : nil
    }
}
