/// One partition's offset in an OffsetCommit request.
package struct OffsetCommitPartition: Sendable, Equatable {
    /// PartitionIndex.
    package var partitionIndex: Int32
    /// CommittedOffset.
    package var committedOffset: Int64
    /// CommittedLeaderEpoch (v6+), -1 for none.
    package var committedLeaderEpoch: Int32
    /// CommittedMetadata: nil is stored as "".
    package var committedMetadata: String?

    /// A partition's committed offset.
    package init(
        partitionIndex: Int32,
        committedOffset: Int64,
        committedLeaderEpoch: Int32 = -1,
        committedMetadata: String? = nil
    ) {
        self.partitionIndex = partitionIndex
        self.committedOffset = committedOffset
        self.committedLeaderEpoch = committedLeaderEpoch
        self.committedMetadata = committedMetadata
    }
}

/// One topic's partitions in an OffsetCommit request.
package struct OffsetCommitTopic: Sendable, Equatable {
    /// Name.
    package var name: String
    /// Partitions.
    package var partitions: [OffsetCommitPartition]

    /// A topic's committed offsets.
    package init(name: String, partitions: [OffsetCommitPartition]) {
        self.name = name
        self.partitions = partitions
    }
}

/// An OffsetCommit request (v1–v9) of the classic protocol; the broker answers the partitions of
/// unknown topics itself and hands the rest over.
package struct OffsetCommitRequest: Sendable, Equatable {
    /// GroupId ("" is allowed, as Kafka allows it for offset APIs).
    package var groupId: String
    /// GenerationIdOrMemberEpoch: -1 for a commit outside group management.
    package var generationIdOrMemberEpoch: Int32
    /// MemberId: "" for a commit outside group management.
    package var memberId: String
    /// GroupInstanceId (v7+).
    package var groupInstanceId: String?
    /// Topics.
    package var topics: [OffsetCommitTopic]

    /// An offset commit; the defaults are those of a standalone (simple) commit.
    package init(
        groupId: String,
        generationIdOrMemberEpoch: Int32 = -1,
        memberId: String = "",
        groupInstanceId: String? = nil,
        topics: [OffsetCommitTopic]
    ) {
        self.groupId = groupId
        self.generationIdOrMemberEpoch = generationIdOrMemberEpoch
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.topics = topics
    }
}

/// One partition's outcome in an OffsetCommit response.
package struct OffsetCommitResponsePartition: Sendable, Equatable {
    /// PartitionIndex.
    package var partitionIndex: Int32
    /// ErrorCode.
    package var errorCode: GroupErrorCode

    /// A partition's outcome.
    package init(partitionIndex: Int32, errorCode: GroupErrorCode) {
        self.partitionIndex = partitionIndex
        self.errorCode = errorCode
    }
}

/// One topic's outcomes in an OffsetCommit response.
package struct OffsetCommitResponseTopic: Sendable, Equatable {
    /// Name.
    package var name: String
    /// Partitions.
    package var partitions: [OffsetCommitResponsePartition]

    /// A topic's outcomes.
    package init(name: String, partitions: [OffsetCommitResponsePartition]) {
        self.name = name
        self.partitions = partitions
    }
}

/// An OffsetCommit response, topics and partitions in the request's order.
package struct OffsetCommitResponse: Sendable, Equatable {
    /// Topics.
    package var topics: [OffsetCommitResponseTopic]

    /// A commit response.
    package init(topics: [OffsetCommitResponseTopic]) { self.topics = topics }
}

/// One topic's partitions in an OffsetFetch request.
package struct OffsetFetchTopic: Sendable, Equatable {
    /// Name.
    package var name: String
    /// PartitionIndexes.
    package var partitionIndexes: [Int32]

    /// A topic's partitions to fetch.
    package init(name: String, partitionIndexes: [Int32]) {
        self.name = name
        self.partitionIndexes = partitionIndexes
    }
}

/// An OffsetFetch request for one group (v1–v9; v8+ batch groups, one request each here).
package struct OffsetFetchRequest: Sendable, Equatable {
    /// GroupId.
    package var groupId: String
    /// Topics: nil for all the group's committed offsets.
    package var topics: [OffsetFetchTopic]?
    /// RequireStable (v7+).
    package var requireStable: Bool

    /// An offset fetch.
    package init(groupId: String, topics: [OffsetFetchTopic]?, requireStable: Bool = false) {
        self.groupId = groupId
        self.topics = topics
        self.requireStable = requireStable
    }
}

/// One partition's committed offset in an OffsetFetch response.
package struct OffsetFetchResponsePartition: Sendable, Equatable {
    /// PartitionIndex.
    package var partitionIndex: Int32
    /// CommittedOffset: -1 when none is committed.
    package var committedOffset: Int64
    /// CommittedLeaderEpoch (v5+): -1 when none.
    package var committedLeaderEpoch: Int32
    /// Metadata: "" when none.
    package var metadata: String
    /// ErrorCode.
    package var errorCode: GroupErrorCode

    /// A partition's committed offset.
    package init(
        partitionIndex: Int32,
        committedOffset: Int64 = -1,
        committedLeaderEpoch: Int32 = -1,
        metadata: String = "",
        errorCode: GroupErrorCode = .none
    ) {
        self.partitionIndex = partitionIndex
        self.committedOffset = committedOffset
        self.committedLeaderEpoch = committedLeaderEpoch
        self.metadata = metadata
        self.errorCode = errorCode
    }
}

/// One topic's partitions in an OffsetFetch response.
package struct OffsetFetchResponseTopic: Sendable, Equatable {
    /// Name.
    package var name: String
    /// Partitions.
    package var partitions: [OffsetFetchResponsePartition]

    /// A topic's committed offsets.
    package init(name: String, partitions: [OffsetFetchResponsePartition]) {
        self.name = name
        self.partitions = partitions
    }
}

/// An OffsetFetch response for one group: the requested partitions in the request's order, or all
/// committed ones sorted by topic and partition.
package struct OffsetFetchResponse: Sendable, Equatable {
    /// GroupId.
    package var groupId: String
    /// ErrorCode: the group-level error.
    package var errorCode: GroupErrorCode
    /// Topics.
    package var topics: [OffsetFetchResponseTopic]

    /// A fetch response.
    package init(groupId: String, errorCode: GroupErrorCode = .none, topics: [OffsetFetchResponseTopic]) {
        self.groupId = groupId
        self.errorCode = errorCode
        self.topics = topics
    }
}
