/// A ticket: the broker's opaque id of one request, so that an answer given later (a JoinGroup parked
/// until the rebalance completes, a follower's SyncGroup parked until the leader's assignment) finds
/// its way back to the connection that asked.
package typealias GroupTicket = UInt64

/// The broker settings of the classic group coordinator, with Apache Kafka 3.9's defaults.
package struct GroupSettings: Sendable, Equatable {
    /// `group.min.session.timeout.ms` (6 s): shorter session timeouts are INVALID_SESSION_TIMEOUT.
    package var minSessionTimeout: Duration
    /// `group.max.session.timeout.ms` (30 min): longer session timeouts are INVALID_SESSION_TIMEOUT.
    package var maxSessionTimeout: Duration
    /// `group.initial.rebalance.delay.ms` (3 s): how long the first rebalance of an Empty group waits
    /// for more members, and by how much each wave of newcomers extends the wait.
    package var initialRebalanceDelay: Duration
    /// `group.max.size` (Int32.max): the most members a group admits.
    package var maxGroupSize: Int
    /// How long a new member's JoinGroup may wait in a rebalance before it is dropped (Kafka's
    /// `NewMemberJoinTimeoutMs`, 5 min, not configurable there).
    package var newMemberJoinTimeout: Duration
    /// `offset.metadata.max.bytes` (4096): longer commit metadata is OFFSET_METADATA_TOO_LARGE.
    package var offsetMetadataMaxBytes: Int
    /// `offsets.retention.minutes` (7 days): how long offsets of an Empty group (or standalone
    /// commits) are kept.
    package var offsetsRetention: Duration
    /// `offsets.retention.check.interval.ms` (10 min): how often expired offsets and Empty groups
    /// without offsets are removed.
    package var offsetsRetentionCheckInterval: Duration

    /// Settings with Kafka 3.9's defaults, each of which may be overridden.
    package init(
        minSessionTimeout: Duration = .seconds(6),
        maxSessionTimeout: Duration = .seconds(1_800),
        initialRebalanceDelay: Duration = .seconds(3),
        maxGroupSize: Int = Int(Int32.max),
        newMemberJoinTimeout: Duration = .seconds(300),
        offsetMetadataMaxBytes: Int = 4_096,
        offsetsRetention: Duration = .seconds(7 * 24 * 3_600),
        offsetsRetentionCheckInterval: Duration = .seconds(600)
    ) {
        self.minSessionTimeout = minSessionTimeout
        self.maxSessionTimeout = maxSessionTimeout
        self.initialRebalanceDelay = initialRebalanceDelay
        self.maxGroupSize = maxGroupSize
        self.newMemberJoinTimeout = newMemberJoinTimeout
        self.offsetMetadataMaxBytes = offsetMetadataMaxBytes
        self.offsetsRetention = offsetsRetention
        self.offsetsRetentionCheckInterval = offsetsRetentionCheckInterval
    }
}

extension Duration {
    /// A timeout a request gives in milliseconds, as a duration.
    package static func kafkaMilliseconds(_ milliseconds: Int32) -> Duration {
        .milliseconds(Int64(milliseconds))
    }
}
