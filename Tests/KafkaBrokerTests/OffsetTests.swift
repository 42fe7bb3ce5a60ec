import KafkaBroker
import KafkaProtocol
import Testing

/// OffsetCommit and OffsetFetch.
@Suite("Offsets", .timeLimit(.minutes(10)))
struct OffsetTests {
    static func commit(
        groupId: String = "g",
        generation: Int32 = -1,
        memberId: String = "",
        instanceId: String? = nil,
        _ partitions: [OffsetCommitPartition] = [OffsetCommitPartition(partitionIndex: 0, committedOffset: 42)]
    ) -> OffsetCommitRequest {
        OffsetCommitRequest(
            groupId: groupId,
            generationIdOrMemberEpoch: generation,
            memberId: memberId,
            groupInstanceId: instanceId,
            topics: [OffsetCommitTopic(name: "t", partitions: partitions)]
        )
    }

    static func fetch(_ partitions: [Int32]?, groupId: String = "g") -> OffsetFetchRequest {
        OffsetFetchRequest(
            groupId: groupId,
            topics: partitions.map { [OffsetFetchTopic(name: "t", partitionIndexes: $0)] }
        )
    }

    @Test(
        "A standalone commit creates an Empty group; fetches return offset, leader epoch and metadata, or -1 and \"\""
    )
    func simpleCommitAndFetch() throws {
        var harness = GroupHarness()
        let partitions = [
            OffsetCommitPartition(
                partitionIndex: 0,
                committedOffset: 42,
                committedLeaderEpoch: 3,
                committedMetadata: "m"
            ),
            OffsetCommitPartition(partitionIndex: 1, committedOffset: 7),
        ]
        #expect(harness.commit(Self.commit(partitions)) == [.none, .none])
        #expect(harness.group?.state == .empty)
        #expect(harness.group?.protocolType == nil)
        let fetched = harness.coordinator.fetchOffsets(Self.fetch([0, 1, 2]))
        #expect(fetched.errorCode == .none)
        #expect(
            fetched.topics == [
                OffsetFetchResponseTopic(
                    name: "t",
                    partitions: [
                        OffsetFetchResponsePartition(
                            partitionIndex: 0,
                            committedOffset: 42,
                            committedLeaderEpoch: 3,
                            metadata: "m"
                        ),
                        OffsetFetchResponsePartition(partitionIndex: 1, committedOffset: 7),
                        OffsetFetchResponsePartition(partitionIndex: 2),
                    ]
                )
            ]
        )
        #expect(
            harness.coordinator.fetchOffsets(Self.fetch(nil)).topics.first?.partitions.map(\.partitionIndex) == [0, 1]
        )
        let unknown = harness.coordinator.fetchOffsets(Self.fetch([5], groupId: "other"))
        #expect(unknown.topics.first?.partitions == [OffsetFetchResponsePartition(partitionIndex: 5)])
        #expect(harness.coordinator.fetchOffsets(Self.fetch(nil, groupId: "other")).topics.isEmpty)
    }

    @Test("A commit with a generation to an unknown group is ILLEGAL_GENERATION and creates nothing")
    func commitToUnknownGroupWithGeneration() {
        var harness = GroupHarness()
        #expect(harness.commit(Self.commit(generation: 1, memberId: "m")) == [.illegalGeneration])
        #expect(harness.coordinator.groups.isEmpty)
    }

    @Test("Members of a Stable group commit in their generation; others are refused as Kafka refuses them")
    func generationChecks() throws {
        var harness = GroupHarness()
        let formed = try harness.formGroup(["c1", "c2"])
        let member = formed.memberIds[1]
        #expect(harness.commit(Self.commit(generation: 1, memberId: member)) == [.none])
        #expect(harness.commit(Self.commit(generation: 2, memberId: member)) == [.illegalGeneration])
        #expect(harness.commit(Self.commit(generation: 1, memberId: "stranger")) == [.unknownMemberId])
        #expect(harness.commit(Self.commit()) == [.unknownMemberId])
        #expect(harness.commit(Self.commit(generation: -1, memberId: member)) == [.illegalGeneration])
        let tooLong = OffsetCommitPartition(
            partitionIndex: 1,
            committedOffset: 1,
            committedMetadata: String(repeating: "x", count: 4_097)
        )
        let mixed = [OffsetCommitPartition(partitionIndex: 0, committedOffset: 43), tooLong]
        #expect(
            harness.commit(Self.commit(generation: 1, memberId: member, mixed)) == [.none, .offsetMetadataTooLarge]
        )
        #expect(harness.coordinator.fetchOffsets(Self.fetch([0])).topics.first?.partitions.first?.committedOffset == 43)
    }

    @Test(
        "Commits are allowed while PreparingRebalance and refused with REBALANCE_IN_PROGRESS while CompletingRebalance"
    )
    func commitsDuringRebalance() throws {
        var harness = GroupHarness()
        let formed = try harness.formGroup(["c1", "c2"])
        let follower = formed.memberIds[1]
        _ = harness.send(JoinGroupRequest(groupId: "g", memberId: formed.leader, clientId: "c1"))
        #expect(harness.group?.state == .preparingRebalance)
        #expect(harness.commit(Self.commit(generation: 1, memberId: follower)) == [.none])
        _ = try harness.join(JoinGroupRequest(groupId: "g", memberId: follower, clientId: "c2"))
        #expect(harness.group?.state == .completingRebalance)
        #expect(harness.commit(Self.commit(generation: 2, memberId: follower)) == [.rebalanceInProgress])
        #expect(harness.commit(Self.commit(generation: 1, memberId: follower)) == [.illegalGeneration])
        #expect(harness.commit(Self.commit(generation: 2, memberId: "stranger")) == [.unknownMemberId])
    }

    @Test("A member's commit renews its session")
    func commitRenewsTheSession() throws {
        var harness = GroupHarness()
        let formed = try harness.formGroup(["c1"], sessionTimeoutMs: 10_000)
        harness.advance(by: .seconds(8))
        #expect(harness.commit(Self.commit(generation: 1, memberId: formed.leader)) == [.none])
        harness.advance(by: .seconds(8))
        #expect(harness.group?.members[formed.leader] != nil)
    }

    @Test("Offsets survive the group becoming Empty, and Empty groups accept standalone commits again")
    func offsetsSurviveEmpty() throws {
        var harness = GroupHarness()
        let formed = try harness.formGroup(["c1"])
        #expect(harness.commit(Self.commit(generation: 1, memberId: formed.leader)) == [.none])
        _ = harness.leave([LeaveGroupMember(memberId: formed.leader)])
        #expect(harness.group?.state == .empty)
        #expect(harness.coordinator.fetchOffsets(Self.fetch([0])).topics.first?.partitions.first?.committedOffset == 42)
        let update = [OffsetCommitPartition(partitionIndex: 0, committedOffset: 50)]
        #expect(harness.commit(Self.commit(update)) == [.none])
        #expect(harness.commit(Self.commit(generation: 1, memberId: formed.leader)) == [.unknownMemberId])
    }

    @Test("Offsets of an Empty group expire after the retention, and the group with them")
    func offsetsExpire() throws {
        var harness = GroupHarness()
        #expect(harness.commit(Self.commit()) == [.none])
        harness.advance(by: .seconds(7 * 24 * 3_600 - 600))
        #expect(harness.group != nil)
        harness.advance(by: .seconds(600))
        #expect(harness.group == nil)
    }
}
