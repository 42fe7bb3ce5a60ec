import KafkaBroker
import KafkaProtocol
import Testing

/// Leaving, session expiry and rejoining: what decides how fast partitions move.
@Suite("Leave, session expiry and rejoin", .timeLimit(.minutes(10)))
struct LeaveAndSessionTests {
    @Test(
        "A consumer that leaves cleanly and starts again gets its partitions after the 3 s delay, not a session timeout"
    )
    func cleanLeaveThenRejoinWithinTheInitialDelay() throws {
        var harness = GroupHarness()
        let formed = try harness.formGroup(["c1"])
        harness.advance(to: .seconds(20))
        let leave = harness.leave([LeaveGroupMember(memberId: formed.leader)])
        #expect(leave.errorCode == .none)
        #expect(leave.members.map(\.errorCode) == [.none])
        #expect(harness.group?.state == .empty)
        #expect(harness.group?.generationId == 2)
        #expect(harness.coordinator.describeGroups(["g"]).first?.groupState == "Empty")

        harness.advance(to: .seconds(21))
        let rejoin = try harness.joinDynamic("c1")
        harness.advance(to: .milliseconds(23_999))
        #expect(harness.takeJoin(rejoin.ticket) == nil)
        harness.advance(to: .seconds(24))
        let joined = try harness.requireJoin(rejoin.ticket)
        #expect(joined.errorCode == .none)
        #expect(joined.generationId == 3)
        #expect(joined.leader == rejoin.memberId)
        let assignment = [SyncGroupAssignment(memberId: rejoin.memberId, assignment: [7])]
        let sync = try harness.sync(
            SyncGroupRequest(groupId: "g", generationId: 3, memberId: rejoin.memberId, assignments: assignment)
        )
        #expect(sync.errorCode == .none)
        #expect(sync.assignment == [7])
        #expect(harness.group?.state == .stable)
    }

    @Test("When one of two members leaves, the other is told REBALANCE_IN_PROGRESS and rejoins as sole member")
    func survivorRejoinsAlone() throws {
        var harness = GroupHarness()
        let formed = try harness.formGroup(["c1", "c2"])
        let (leaver, survivor) = (formed.memberIds[0], formed.memberIds[1])
        #expect(harness.heartbeat(survivor, generation: 1) == .none)
        #expect(harness.leave([LeaveGroupMember(memberId: leaver)]).members.map(\.errorCode) == [.none])
        #expect(harness.group?.state == .preparingRebalance)
        #expect(harness.heartbeat(survivor, generation: 1) == .rebalanceInProgress)

        let rejoin = try harness.join(JoinGroupRequest(groupId: "g", memberId: survivor, clientId: "c2"))
        #expect(rejoin.errorCode == .none)
        #expect(rejoin.generationId == 2)
        #expect(rejoin.leader == survivor)
        #expect(rejoin.members.map(\.memberId) == [survivor])
        let assignment = [SyncGroupAssignment(memberId: survivor, assignment: [0, 1])]
        let sync = try harness.sync(
            SyncGroupRequest(groupId: "g", generationId: 2, memberId: survivor, assignments: assignment)
        )
        #expect(sync.assignment == [0, 1])
        #expect(harness.heartbeat(survivor, generation: 2) == .none)
        #expect(harness.heartbeat(leaver, generation: 2) == .unknownMemberId)
    }

    @Test("A member that stops heartbeating is removed when its session expires, and the group rebalances")
    func sessionExpiryRemovesTheMember() throws {
        var harness = GroupHarness()
        let formed = try harness.formGroup(["c1", "c2"], sessionTimeoutMs: 10_000)
        let (alive, silent) = (formed.memberIds[0], formed.memberIds[1])
        let formedAt = harness.now
        for _ in 1...3 {
            harness.advance(by: .seconds(3))
            #expect(harness.heartbeat(alive, generation: 1) == .none)
        }
        harness.advance(to: formedAt + .milliseconds(9_999))
        #expect(harness.group?.members[silent] != nil)
        harness.advance(to: formedAt + .seconds(10))
        #expect(harness.group?.members[silent] == nil)
        #expect(harness.heartbeat(alive, generation: 1) == .rebalanceInProgress)
        #expect(harness.heartbeat(silent, generation: 1) == .unknownMemberId)
        let rejoin = try harness.join(
            JoinGroupRequest(groupId: "g", sessionTimeoutMs: 10_000, memberId: alive, clientId: "c1")
        )
        #expect(rejoin.generationId == 2)
        #expect(rejoin.members.map(\.memberId) == [alive])
    }

    @Test("The last member's session expiry empties the group at once")
    func lastSessionExpiryEmptiesTheGroup() throws {
        var harness = GroupHarness()
        _ = try harness.formGroup(["c1"], sessionTimeoutMs: 10_000)
        harness.advance(to: .seconds(13))
        #expect(harness.group?.state == .empty)
        #expect(harness.group?.members.isEmpty == true)
        #expect(harness.group?.generationId == 2)
    }

    @Test("A member awaiting its JoinGroup answer is not expired by its session timeout")
    func parkedJoinSuspendsTheSession() throws {
        var harness = GroupHarness()
        let formed = try harness.formGroup(["c1", "c2"], sessionTimeoutMs: 10_000)
        let (leader, follower) = (formed.leader, formed.memberIds[1])
        let parked = harness.send(
            JoinGroupRequest(groupId: "g", sessionTimeoutMs: 10_000, memberId: leader, clientId: "c1")
        )
        #expect(harness.group?.state == .preparingRebalance)
        for _ in 1...6 {
            harness.advance(by: .seconds(5))
            #expect(harness.heartbeat(follower, generation: 1) == .rebalanceInProgress)
        }
        #expect(harness.group?.members[leader] != nil)
        let followerJoin = try harness.join(
            JoinGroupRequest(groupId: "g", sessionTimeoutMs: 10_000, memberId: follower, clientId: "c2")
        )
        #expect(followerJoin.generationId == 2)
        #expect(harness.takeJoin(parked)?.members.count == 2)
    }

    @Test("A new member whose join waits longer than 5 min in a protracted rebalance is dropped")
    func newMemberJoinTimeout() throws {
        var harness = GroupHarness()
        let first = try harness.joinDynamic("c1", sessionTimeoutMs: 600_000, rebalanceTimeoutMs: 900_000)
        harness.advance(by: .seconds(3))
        let firstJoin = try harness.requireJoin(first.ticket)
        let second = try harness.joinDynamic("c2", sessionTimeoutMs: 600_000, rebalanceTimeoutMs: 900_000)
        #expect(harness.group?.state == .preparingRebalance)
        harness.advance(by: .seconds(300))
        #expect(harness.takeJoin(second.ticket) == JoinGroupResponse(errorCode: .unknownMemberId, memberId: ""))
        #expect(harness.group?.memberIds == [firstJoin.memberId])
    }

    @Test("A batched leave removes static members by instance id and reports each member's error")
    func batchedLeave() throws {
        var harness = GroupHarness()
        let join = harness.send(JoinGroupRequest(groupId: "g", groupInstanceId: "i1", clientId: "c1"))
        harness.advance(by: .seconds(3))
        let memberId = try harness.requireJoin(join).memberId
        let response = harness.leave([
            LeaveGroupMember(memberId: "", groupInstanceId: "i1"),
            LeaveGroupMember(memberId: "", groupInstanceId: "nobody"),
            LeaveGroupMember(memberId: "stranger"),
        ])
        #expect(response.errorCode == .none)
        #expect(response.members.map(\.errorCode) == [.none, .unknownMemberId, .unknownMemberId])
        #expect(response.legacyErrorCode == .unknownMemberId)
        #expect(harness.group?.members[memberId] == nil)
        #expect(harness.group?.state == .empty)
        let unknownGroup = harness.leave([LeaveGroupMember(memberId: "m")], groupId: "other")
        #expect(unknownGroup.errorCode == .none && unknownGroup.members.map(\.errorCode) == [.unknownMemberId])
    }
}
