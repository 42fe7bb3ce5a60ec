import KafkaBroker
import KafkaProtocol
import Testing

/// SyncGroup and the rebalance and sync timeouts.
@Suite("SyncGroup and rebalance timeouts", .timeLimit(.minutes(10)))
struct SyncAndTimeoutTests {
    /// Two members joined in generation 1, nobody synced: (leader, follower).
    static func joinedPair(
        _ harness: inout GroupHarness,
        rebalanceTimeoutMs: Int32 = 300_000
    ) throws -> (String, String) {
        let first = try harness.joinDynamic("c1", rebalanceTimeoutMs: rebalanceTimeoutMs)
        let second = try harness.joinDynamic("c2", rebalanceTimeoutMs: rebalanceTimeoutMs)
        harness.advanceUntilAnswered([first.ticket, second.ticket])
        let leader = try harness.requireJoin(first.ticket).leader
        #expect(harness.takeJoin(second.ticket)?.generationId == 1)
        return (leader, leader == first.memberId ? second.memberId : first.memberId)
    }

    @Test("A follower's SyncGroup waits for the leader's assignment, which answers both")
    func followerSyncParksUntilTheLeaderSyncs() throws {
        var harness = GroupHarness()
        let (leader, follower) = try Self.joinedPair(&harness)
        let followerTicket = harness.send(SyncGroupRequest(groupId: "g", generationId: 1, memberId: follower))
        #expect(harness.ready.isEmpty)
        #expect(harness.heartbeat(follower, generation: 1) == .none)
        let assignments = [SyncGroupAssignment(memberId: follower, assignment: [9])]
        let leaderTicket = harness.send(
            SyncGroupRequest(groupId: "g", generationId: 1, memberId: leader, assignments: assignments)
        )
        let expected = { (assignment: [UInt8]) in
            SyncGroupResponse(errorCode: .none, protocolType: "consumer", protocolName: "range", assignment: assignment)
        }
        #expect(harness.takeSync(followerTicket) == expected([9]))
        #expect(harness.takeSync(leaderTicket) == expected([]))
        #expect(harness.group?.state == .stable)
        let again = try harness.sync(SyncGroupRequest(groupId: "g", generationId: 1, memberId: follower))
        #expect(again == expected([9]))
    }

    @Test("SyncGroup checks the generation, the member, the state and the protocol")
    func syncErrors() throws {
        var harness = GroupHarness()
        let (leader, follower) = try Self.joinedPair(&harness)
        let wrongGeneration = SyncGroupRequest(groupId: "g", generationId: 2, memberId: follower)
        #expect(try harness.sync(wrongGeneration).errorCode == .illegalGeneration)
        #expect(
            try harness.sync(SyncGroupRequest(groupId: "g", generationId: 1, memberId: "x")).errorCode
                == .unknownMemberId
        )
        #expect(
            try harness.sync(SyncGroupRequest(groupId: "h", generationId: 1, memberId: leader)).errorCode
                == .unknownMemberId
        )
        let otherName = SyncGroupRequest(groupId: "g", generationId: 1, memberId: leader, protocolName: "roundrobin")
        #expect(try harness.sync(otherName).errorCode == .inconsistentGroupProtocol)
        let missing = SyncGroupRequest(
            apiVersion: 5,
            groupId: "g",
            generationId: 1,
            memberId: leader,
            protocolType: nil
        )
        #expect(try harness.sync(missing).errorCode == .inconsistentGroupProtocol)
        let old = SyncGroupRequest(apiVersion: 4, groupId: "g", generationId: 1, memberId: follower, protocolType: nil)
        let parked = harness.send(old)
        let changed = [GroupProtocol(name: "range", metadata: [1])]
        _ = harness.send(JoinGroupRequest(groupId: "g", memberId: leader, protocols: changed, clientId: "c1"))
        #expect(harness.takeSync(parked) == SyncGroupResponse(errorCode: .rebalanceInProgress))
        #expect(
            try harness.sync(SyncGroupRequest(groupId: "g", generationId: 1, memberId: follower)).errorCode
                == .rebalanceInProgress
        )
    }

    @Test("A member that does not rejoin before the rebalance timeout is removed and the others go on without it")
    func rebalanceTimeoutRemovesTheLaggard() throws {
        var harness = GroupHarness()
        let formed = try harness.formGroup(["c1", "c2"], rebalanceTimeoutMs: 20_000)
        let (leader, laggard) = (formed.leader, formed.memberIds[1])
        let rejoin = JoinGroupRequest(groupId: "g", rebalanceTimeoutMs: 20_000, memberId: leader, clientId: "c1")
        let ticket = harness.send(rejoin)
        let started = harness.now
        for _ in 1...6 {
            harness.advance(by: .seconds(3))
            #expect(harness.heartbeat(laggard, generation: 1) == .rebalanceInProgress)
        }
        harness.advance(to: started + .milliseconds(19_999))
        #expect(harness.takeJoin(ticket) == nil)
        harness.advance(to: started + .seconds(20))
        let response = try harness.requireJoin(ticket)
        #expect(response.generationId == 2)
        #expect(response.members.map(\.memberId) == [leader])
        #expect(harness.heartbeat(laggard, generation: 2) == .unknownMemberId)
    }

    @Test("A member that does not sync before the rebalance timeout is removed and the group rebalances")
    func syncTimeoutRemovesTheMember() throws {
        var harness = GroupHarness()
        let (leader, follower) = try Self.joinedPair(&harness, rebalanceTimeoutMs: 20_000)
        let syncStart = harness.now
        let assignments = [SyncGroupAssignment(memberId: leader, assignment: [1])]
        let sync = try harness.sync(
            SyncGroupRequest(groupId: "g", generationId: 1, memberId: leader, assignments: assignments)
        )
        #expect(sync.assignment == [1])
        harness.advance(to: syncStart + .milliseconds(19_999))
        #expect(harness.group?.members[follower] != nil)
        harness.advance(to: syncStart + .seconds(20))
        #expect(harness.group?.members[follower] == nil)
        #expect(harness.group?.state == .preparingRebalance)
        #expect(harness.heartbeat(leader, generation: 1) == .rebalanceInProgress)
    }

    @Test("A follower whose sync is parked when the leader never syncs is told REBALANCE_IN_PROGRESS")
    func leaderNeverSyncs() throws {
        var harness = GroupHarness()
        let (leader, follower) = try Self.joinedPair(&harness, rebalanceTimeoutMs: 20_000)
        let parked = harness.send(SyncGroupRequest(groupId: "g", generationId: 1, memberId: follower))
        harness.advance(by: .seconds(20))
        #expect(harness.takeSync(parked) == SyncGroupResponse(errorCode: .rebalanceInProgress))
        #expect(harness.group?.members[leader] == nil)
        #expect(harness.group?.memberIds == [follower])
    }

    @Test("A parked request is answered, never leaked, when its member leaves or sends it again")
    func parkedRequestsAreAlwaysAnswered() throws {
        var harness = GroupHarness()
        let (_, follower) = try Self.joinedPair(&harness)
        let parkedSync = harness.send(SyncGroupRequest(groupId: "g", generationId: 1, memberId: follower))
        #expect(harness.leave([LeaveGroupMember(memberId: follower)]).members.map(\.errorCode) == [.none])
        #expect(harness.takeSync(parkedSync) == SyncGroupResponse(errorCode: .unknownMemberId))

        harness = GroupHarness()
        let formed = try harness.formGroup(["c1", "c2"])
        let firstTry = harness.send(JoinGroupRequest(groupId: "g", memberId: formed.leader, clientId: "c1"))
        let retry = harness.send(JoinGroupRequest(groupId: "g", memberId: formed.leader, clientId: "c1"))
        let superseded = JoinGroupResponse(errorCode: .rebalanceInProgress, memberId: formed.leader)
        #expect(harness.takeJoin(firstTry) == superseded)
        _ = try harness.join(JoinGroupRequest(groupId: "g", memberId: formed.memberIds[1], clientId: "c2"))
        #expect(harness.takeJoin(retry)?.generationId == 2)
    }

    @Test("nextDeadline names the earliest timer: the initial delay, then sessions and the sync timeout")
    func nextDeadlineFollowsTheTimers() throws {
        var harness = GroupHarness()
        #expect(harness.coordinator.nextDeadline == nil)
        let join = try harness.joinDynamic("c1", sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 60_000)
        #expect(harness.coordinator.nextDeadline == .seconds(3))
        harness.advance(to: .seconds(3))
        #expect(harness.takeJoin(join.ticket) != nil)
        #expect(harness.coordinator.nextDeadline == .seconds(13))
        harness.advance(to: .seconds(13))
        #expect(harness.group?.state == .empty)
    }
}
