import KafkaBroker
import KafkaProtocol
import Testing

/// JoinGroup's checks, member ids and protocol selection.
@Suite("JoinGroup", .timeLimit(.minutes(10)))
struct JoinGroupTests {
    @Test(
        "A v4+ dynamic member without a member id gets MEMBER_ID_REQUIRED with a pending id, then is admitted with it"
    )
    func memberIdRequiredFlow() throws {
        var harness = GroupHarness()
        let request = JoinGroupRequest(groupId: "g", clientId: "my-client")
        let first = try harness.join(request)
        #expect(first.errorCode == .memberIdRequired)
        #expect(first.generationId == -1 && first.leader == "" && first.members.isEmpty)
        #expect(first.memberId.hasPrefix("my-client-") && first.memberId.count == "my-client-".count + 36)
        #expect(harness.group?.state == .empty)
        #expect(harness.group?.members.isEmpty == true)
        #expect(harness.group?.pendingMembers.keys.contains(first.memberId) == true)

        var rejoin = request
        rejoin.memberId = first.memberId
        let ticket = harness.send(rejoin)
        #expect(harness.group?.members[first.memberId] != nil)
        harness.advance(by: .seconds(3))
        let joined = try harness.requireJoin(ticket)
        #expect(joined.errorCode == .none && joined.memberId == first.memberId && joined.generationId == 1)
    }

    @Test("A pending member id expires after the session timeout and is then unknown")
    func pendingMemberIdExpires() throws {
        var harness = GroupHarness()
        let request = JoinGroupRequest(groupId: "g", sessionTimeoutMs: 10_000)
        let first = try harness.join(request)
        harness.advance(by: .seconds(10))
        #expect(harness.group?.pendingMembers.isEmpty == true)
        var rejoin = request
        rejoin.memberId = first.memberId
        #expect(try harness.join(rejoin) == JoinGroupResponse(errorCode: .unknownMemberId, memberId: first.memberId))
    }

    @Test("An outstanding pending member id holds a rebalance until it joins")
    func pendingMemberHoldsTheRebalance() throws {
        var harness = GroupHarness()
        let formed = try harness.formGroup(["c1"])
        let pending = try harness.join(JoinGroupRequest(groupId: "g", clientId: "c2"))
        #expect(pending.errorCode == .memberIdRequired)
        let leaderRejoin = harness.send(JoinGroupRequest(groupId: "g", memberId: formed.leader, clientId: "c1"))
        #expect(harness.takeJoin(leaderRejoin) == nil)
        var second = JoinGroupRequest(groupId: "g", clientId: "c2")
        second.memberId = pending.memberId
        let secondTicket = harness.send(second)
        #expect(harness.takeJoin(leaderRejoin)?.members.count == 2)
        #expect(harness.takeJoin(secondTicket)?.generationId == 2)
    }

    @Test(
        "Session timeouts outside 6 s to 30 min are INVALID_SESSION_TIMEOUT",
        arguments: [
            (Int32(5_999), GroupErrorCode.invalidSessionTimeout), (6_000, .memberIdRequired),
            (1_800_000, .memberIdRequired), (1_800_001, .invalidSessionTimeout),
        ]
    )
    func sessionTimeoutBounds(timeout: Int32, expected: GroupErrorCode) throws {
        var harness = GroupHarness()
        let response = try harness.join(JoinGroupRequest(groupId: "g", sessionTimeoutMs: timeout))
        #expect(response.errorCode == expected)
    }

    @Test("Protocols or a protocol type the group does not share are INCONSISTENT_GROUP_PROTOCOL")
    func inconsistentProtocols() throws {
        var harness = GroupHarness()
        let formed = try harness.formGroup(["c1"])
        let otherProtocol = JoinGroupRequest(groupId: "g", protocols: [GroupProtocol(name: "roundrobin")])
        #expect(
            try harness.join(otherProtocol) == JoinGroupResponse(errorCode: .inconsistentGroupProtocol, memberId: "")
        )
        let otherType = JoinGroupRequest(groupId: "g", protocolType: "connect")
        #expect(try harness.join(otherType).errorCode == .inconsistentGroupProtocol)
        var changed = otherProtocol
        changed.memberId = formed.leader
        #expect(
            try harness.join(changed)
                == JoinGroupResponse(errorCode: .inconsistentGroupProtocol, memberId: formed.leader)
        )
        let emptyType = JoinGroupRequest(groupId: "new", protocolType: "")
        #expect(try harness.join(emptyType).errorCode == .inconsistentGroupProtocol)
        let noProtocols = JoinGroupRequest(groupId: "new", protocols: [])
        #expect(try harness.join(noProtocols).errorCode == .inconsistentGroupProtocol)
    }

    @Test("The protocol is the one most members prefer among those all members support")
    func protocolSelection() throws {
        var harness = GroupHarness()
        let both = [GroupProtocol(name: "range", metadata: [1]), GroupProtocol(name: "roundrobin", metadata: [2])]
        let reversed = [GroupProtocol(name: "roundrobin", metadata: [3]), GroupProtocol(name: "range", metadata: [4])]
        let first = try harness.joinDynamic("c1", protocols: both)
        let second = try harness.joinDynamic("c2", protocols: reversed)
        let third = try harness.joinDynamic("c3", protocols: reversed + [GroupProtocol(name: "sticky")])
        harness.advanceUntilAnswered([first.ticket, second.ticket, third.ticket])
        let leader = try harness.requireJoin(first.ticket)
        #expect(leader.protocolName == "roundrobin")
        #expect(leader.members.map(\.metadata) == [[2], [3], [3]])
    }

    @Test(
        "A follower rejoining Stable with unchanged metadata gets the current generation; the leader's rejoin rebalances"
    )
    func rejoinsInStable() throws {
        var harness = GroupHarness()
        let formed = try harness.formGroup(["c1", "c2"])
        let follower = try harness.join(JoinGroupRequest(groupId: "g", memberId: formed.memberIds[1], clientId: "c2"))
        #expect(follower.errorCode == .none && follower.generationId == 1 && follower.leader == formed.leader)
        #expect(harness.group?.state == .stable)
        let leader = harness.send(JoinGroupRequest(groupId: "g", memberId: formed.leader, clientId: "c1"))
        #expect(harness.takeJoin(leader) == nil)
        #expect(harness.group?.state == .preparingRebalance)
    }

    @Test("Group ids, unknown members and the group size are checked")
    func requestChecks() throws {
        var harness = GroupHarness(settings: GroupSettings(maxGroupSize: 1))
        #expect(try harness.join(JoinGroupRequest(groupId: "")).errorCode == .invalidGroupId)
        let unknown = JoinGroupRequest(groupId: "nope", memberId: "m")
        #expect(try harness.join(unknown) == JoinGroupResponse(errorCode: .unknownMemberId, memberId: "m"))
        #expect(harness.coordinator.groups["nope"] == nil)
        _ = try harness.formGroup(["c1"])
        let second = try harness.join(JoinGroupRequest(groupId: "g", clientId: "c2"))
        #expect(second == JoinGroupResponse(errorCode: .groupMaxSizeReached, memberId: ""))
        #expect(harness.group?.pendingMembers.isEmpty == true)
        #expect(harness.group?.state == .stable)
    }
}
