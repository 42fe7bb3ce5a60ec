import KafkaBroker
import KafkaProtocol
import Testing

/// DescribeGroups, ListGroups and DeleteGroups.
@Suite("DescribeGroups, ListGroups and DeleteGroups", .timeLimit(.minutes(10)))
struct DescribeListTests {
    @Test("An unknown group is described as Dead with error NONE")
    func unknownGroupIsDead() {
        let coordinator = GroupCoordinator()
        let described = coordinator.describeGroups(["nope"])
        #expect(
            described == [
                DescribedGroup(
                    errorCode: .none,
                    groupId: "nope",
                    groupState: "Dead",
                    protocolType: "",
                    protocolData: "",
                    members: []
                )
            ]
        )
    }

    @Test("A Stable group is described with its protocol, and members with client, host, metadata and assignment")
    func stableGroupDescription() throws {
        var harness = GroupHarness()
        let first = try harness.joinDynamic("c1", protocols: [GroupProtocol(name: "range", metadata: [5])])
        harness.advance(by: .seconds(3))
        let memberId = try harness.requireJoin(first.ticket).memberId
        let describedJoining = try #require(harness.coordinator.describeGroups(["g"]).first)
        #expect(describedJoining.groupState == "CompletingRebalance")
        #expect(describedJoining.protocolData == "")
        #expect(describedJoining.members.map(\.memberMetadata) == [[]])
        let assignment = [SyncGroupAssignment(memberId: memberId, assignment: [8])]
        _ = try harness.sync(
            SyncGroupRequest(groupId: "g", generationId: 1, memberId: memberId, assignments: assignment)
        )
        let described = try #require(harness.coordinator.describeGroups(["g"]).first)
        #expect(described.errorCode == .none)
        #expect(described.groupState == "Stable")
        #expect(described.protocolType == "consumer")
        #expect(described.protocolData == "range")
        #expect(
            described.members == [
                DescribedGroupMember(
                    memberId: memberId,
                    groupInstanceId: nil,
                    clientId: "c1",
                    clientHost: "/127.0.0.1",
                    memberMetadata: [5],
                    memberAssignment: [8]
                )
            ]
        )
    }

    @Test("Every state is spelled as Kafka spells it")
    func stateNames() {
        #expect(
            GroupState.allCases.map(\.rawValue) == [
                "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead",
            ]
        )
        #expect(GroupErrorCode.illegalGeneration.name == "ILLEGAL_GENERATION")
        #expect(GroupErrorCode.fencedInstanceId.rawValue == 82)
    }

    @Test("ListGroups filters by state and type, case-insensitively; every group is classic")
    func listFilters() throws {
        var harness = GroupHarness()
        _ = try harness.formGroup(["c1"])
        _ = harness.commit(OffsetCommitRequest(groupId: "simple", topics: []))
        let all = harness.coordinator.listGroups(ListGroupsRequest())
        #expect(
            all.groups == [
                ListedGroup(groupId: "g", protocolType: "consumer", groupState: "Stable"),
                ListedGroup(groupId: "simple", protocolType: "", groupState: "Empty"),
            ]
        )
        let stable = harness.coordinator.listGroups(ListGroupsRequest(statesFilter: ["stable"]))
        #expect(stable.groups.map(\.groupId) == ["g"])
        let empty = harness.coordinator.listGroups(ListGroupsRequest(statesFilter: ["Empty", "PreparingRebalance"]))
        #expect(empty.groups.map(\.groupId) == ["simple"])
        #expect(harness.coordinator.listGroups(ListGroupsRequest(typesFilter: ["Classic"])).groups.count == 2)
        #expect(harness.coordinator.listGroups(ListGroupsRequest(typesFilter: ["consumer"])).groups.isEmpty)
        #expect(harness.coordinator.listGroups(ListGroupsRequest(typesFilter: ["invalid"])).groups.isEmpty)
    }

    @Test("DeleteGroups deletes Empty groups with their offsets and refuses others")
    func deleteGroups() throws {
        var harness = GroupHarness()
        _ = try harness.formGroup(["c1"])
        let partition = OffsetCommitPartition(partitionIndex: 0, committedOffset: 1)
        _ = harness.commit(
            OffsetCommitRequest(groupId: "simple", topics: [OffsetCommitTopic(name: "t", partitions: [partition])])
        )
        let ticket = harness.nextTicket()
        harness.ready += harness.coordinator.deleteGroups(
            ["simple", "g", "nope", "simple"],
            ticket: ticket,
            now: harness.now
        )
        #expect(
            harness.take(ticket)
                == .deleteGroups([
                    DeletedGroup(groupId: "simple", errorCode: .none),
                    DeletedGroup(groupId: "g", errorCode: .nonEmptyGroup),
                    DeletedGroup(groupId: "nope", errorCode: .groupIdNotFound),
                ])
        )
        let fetch = OffsetFetchRequest(groupId: "simple", topics: [OffsetFetchTopic(name: "t", partitionIndexes: [0])])
        #expect(harness.coordinator.fetchOffsets(fetch).topics.first?.partitions.first?.committedOffset == -1)
    }

    @Test("Heartbeats check the group, the member and the generation")
    func heartbeatChecks() throws {
        var harness = GroupHarness()
        #expect(harness.heartbeat("m", generation: 1) == .unknownMemberId)
        let formed = try harness.formGroup(["c1"])
        #expect(harness.heartbeat(formed.leader, generation: 2) == .illegalGeneration)
        #expect(harness.heartbeat("m", generation: 1) == .unknownMemberId)
        #expect(harness.heartbeat(formed.leader, generation: 1, instanceId: "i") == .unknownMemberId)
        let ticket = harness.nextTicket()
        let replies = harness.coordinator.heartbeat(
            HeartbeatRequest(groupId: "", generationId: 1, memberId: "m"),
            ticket: ticket,
            now: harness.now
        )
        #expect(
            replies == [GroupReply(ticket: ticket, body: .heartbeat(HeartbeatResponse(errorCode: .invalidGroupId)))]
        )
    }
}
