import KafkaBroker
import KafkaProtocol
import Testing

/// Static membership (`group.instance.id`, JoinGroup v5+).
@Suite("Static membership", .timeLimit(.minutes(10)))
struct StaticMembershipTests {
    static func staticJoin(
        _ instanceId: String,
        memberId: String = "",
        apiVersion: Int16 = 9,
        rebalanceTimeoutMs: Int32 = 300_000,
        protocols: [GroupProtocol] = [GroupProtocol(name: "range")]
    ) -> JoinGroupRequest {
        JoinGroupRequest(
            apiVersion: apiVersion,
            groupId: "g",
            sessionTimeoutMs: 30_000,
            rebalanceTimeoutMs: rebalanceTimeoutMs,
            memberId: memberId,
            groupInstanceId: instanceId,
            protocols: protocols,
            clientId: "client-\(instanceId)"
        )
    }

    /// Two static members supporting range and roundrobin, leader "a" (assigned [0]) and follower "b"
    /// (assigned [1]), Stable in generation 1 with range.
    static func stableStaticGroup(
        _ harness: inout GroupHarness,
        rebalanceTimeoutMs: Int32 = 300_000
    ) throws -> (leader: String, follower: String) {
        let both = [GroupProtocol(name: "range"), GroupProtocol(name: "roundrobin")]
        let a = harness.send(staticJoin("a", rebalanceTimeoutMs: rebalanceTimeoutMs, protocols: both))
        let b = harness.send(staticJoin("b", rebalanceTimeoutMs: rebalanceTimeoutMs, protocols: both))
        harness.advanceUntilAnswered([a, b])
        let leader = try harness.requireJoin(a)
        let follower = try harness.requireJoin(b)
        #expect(leader.leader == leader.memberId)
        #expect(leader.memberId.hasPrefix("a-"))
        #expect(leader.members.map(\.groupInstanceId) == ["a", "b"])
        let followerSync = harness.send(
            SyncGroupRequest(groupId: "g", generationId: 1, memberId: follower.memberId, groupInstanceId: "b")
        )
        let assignments = [
            SyncGroupAssignment(memberId: leader.memberId, assignment: [0]),
            SyncGroupAssignment(memberId: follower.memberId, assignment: [1]),
        ]
        let request = SyncGroupRequest(
            groupId: "g",
            generationId: 1,
            memberId: leader.memberId,
            groupInstanceId: "a",
            assignments: assignments
        )
        #expect(try harness.sync(request).assignment == [0])
        #expect(harness.takeSync(followerSync)?.assignment == [1])
        return (leader.memberId, follower.memberId)
    }

    @Test("A killed static member restarting within its session timeout gets its assignment back without a rebalance")
    func restartedStaticFollowerKeepsItsAssignment() throws {
        var harness = GroupHarness()
        let (leader, oldFollower) = try Self.stableStaticGroup(&harness)
        harness.advance(by: .seconds(10))
        let rejoin = try harness.join(Self.staticJoin("b"))
        #expect(rejoin.errorCode == .none)
        #expect(rejoin.generationId == 1)
        #expect(rejoin.memberId != oldFollower && rejoin.memberId.hasPrefix("b-"))
        #expect(rejoin.leader == leader)
        #expect(rejoin.members.isEmpty && !rejoin.skipAssignment)
        #expect(harness.group?.state == .stable)
        let sync = try harness.sync(
            SyncGroupRequest(groupId: "g", generationId: 1, memberId: rejoin.memberId, groupInstanceId: "b")
        )
        #expect(sync.errorCode == .none && sync.assignment == [1])
        #expect(harness.heartbeat(leader, generation: 1, instanceId: "a") == .none)
        #expect(harness.heartbeat(oldFollower, generation: 1, instanceId: "b") == .fencedInstanceId)
        #expect(harness.group?.generationId == 1)
    }

    @Test("A restarted static leader on JoinGroup v9 learns it leads but skips the assignment")
    func restartedStaticLeaderSkipsAssignment() throws {
        var harness = GroupHarness()
        let (oldLeader, follower) = try Self.stableStaticGroup(&harness)
        let rejoin = try harness.join(Self.staticJoin("a"))
        #expect(rejoin.generationId == 1)
        #expect(rejoin.leader == rejoin.memberId && rejoin.memberId != oldLeader)
        #expect(rejoin.skipAssignment)
        #expect(Set(rejoin.members.map(\.memberId)) == [rejoin.memberId, follower])
        let sync = try harness.sync(
            SyncGroupRequest(groupId: "g", generationId: 1, memberId: rejoin.memberId, groupInstanceId: "a")
        )
        #expect(sync.assignment == [0])
        #expect(harness.group?.state == .stable)
    }

    @Test("Before JoinGroup v9 a restarted static leader is given the old leader id so that it does not assign")
    func restartedStaticLeaderBeforeV9() throws {
        var harness = GroupHarness()
        let (oldLeader, _) = try Self.stableStaticGroup(&harness)
        let rejoin = try harness.join(Self.staticJoin("a", apiVersion: 8))
        #expect(rejoin.errorCode == .none && rejoin.generationId == 1)
        #expect(rejoin.leader == oldLeader)
        #expect(rejoin.members.isEmpty && !rejoin.skipAssignment)
        #expect(harness.group?.leaderId == rejoin.memberId)
    }

    @Test("A second live process with the same instance id fences the first")
    func secondInstanceFencesTheFirst() throws {
        var harness = GroupHarness()
        let (leader, first) = try Self.stableStaticGroup(&harness)
        let second = try harness.join(Self.staticJoin("b"))
        #expect(second.errorCode == .none)
        #expect(harness.heartbeat(first, generation: 1, instanceId: "b") == .fencedInstanceId)
        let commit = OffsetCommitRequest(
            groupId: "g",
            generationIdOrMemberEpoch: 1,
            memberId: first,
            groupInstanceId: "b",
            topics: [
                OffsetCommitTopic(name: "t", partitions: [OffsetCommitPartition(partitionIndex: 1, committedOffset: 5)])
            ]
        )
        #expect(harness.commit(commit) == [.fencedInstanceId])
        let sync = SyncGroupRequest(groupId: "g", generationId: 1, memberId: first, groupInstanceId: "b")
        #expect(try harness.sync(sync).errorCode == .fencedInstanceId)
        #expect(try harness.join(Self.staticJoin("b", memberId: first)).errorCode == .fencedInstanceId)
        let leave = harness.leave([LeaveGroupMember(memberId: first, groupInstanceId: "b")])
        #expect(leave.members.map(\.errorCode) == [.fencedInstanceId])
        #expect(harness.heartbeat(second.memberId, generation: 1, instanceId: "b") == .none)
        #expect(harness.heartbeat(leader, generation: 1, instanceId: "a") == .none)
    }

    @Test("A fenced member's parked JoinGroup is answered FENCED_INSTANCE_ID")
    func parkedJoinOfFencedMember() throws {
        var harness = GroupHarness()
        let (leader, follower) = try Self.stableStaticGroup(&harness)
        let parked = harness.send(Self.staticJoin("a", memberId: leader))
        #expect(harness.group?.state == .preparingRebalance)
        let replacement = harness.send(Self.staticJoin("a"))
        #expect(harness.takeJoin(parked) == JoinGroupResponse(errorCode: .fencedInstanceId, memberId: leader))
        #expect(harness.takeJoin(replacement) == nil)
        let followerRejoin = try harness.join(Self.staticJoin("b", memberId: follower))
        let replaced = try harness.requireJoin(replacement)
        #expect(followerRejoin.generationId == 2 && replaced.generationId == 2)
        #expect(followerRejoin.leader == replaced.memberId)
        #expect(replaced.members.map(\.memberId) == [replaced.memberId, follower])
    }

    @Test("A static member rejoining with a protocol change that alters the selected protocol rebalances")
    func protocolChangeRebalances() throws {
        var harness = GroupHarness()
        let (leader, _) = try Self.stableStaticGroup(&harness)
        let ticket = harness.send(Self.staticJoin("b", protocols: [GroupProtocol(name: "roundrobin")]))
        #expect(harness.takeJoin(ticket) == nil)
        #expect(harness.group?.state == .preparingRebalance)
        let both = [GroupProtocol(name: "range"), GroupProtocol(name: "roundrobin")]
        let leaderJoin = try harness.join(Self.staticJoin("a", memberId: leader, protocols: both))
        #expect(leaderJoin.generationId == 2 && leaderJoin.protocolName == "roundrobin")
        #expect(try harness.requireJoin(ticket).protocolName == "roundrobin")
    }

    @Test("A static member that does not rejoin in time is kept while dynamic ones are removed")
    func staticMemberSurvivesTheRebalanceTimeout() throws {
        var harness = GroupHarness()
        let (leader, follower) = try Self.stableStaticGroup(&harness, rebalanceTimeoutMs: 10_000)
        let ticket = harness.send(Self.staticJoin("a", memberId: leader, rebalanceTimeoutMs: 10_000))
        harness.advance(by: .milliseconds(9_999))
        #expect(harness.takeJoin(ticket) == nil)
        harness.advance(by: .milliseconds(1))
        let response = try harness.requireJoin(ticket)
        #expect(response.generationId == 2)
        #expect(response.members.map(\.memberId) == [leader, follower])
        #expect(harness.group?.staticMembers == ["a": leader, "b": follower])
    }
}
