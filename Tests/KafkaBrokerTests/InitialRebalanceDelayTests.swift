import KafkaBroker
import KafkaProtocol
import Testing

/// `group.initial.rebalance.delay.ms`: the first rebalance of an Empty group waits for more members
/// (Kafka's InitialDelayedJoin).
@Suite("Initial rebalance delay", .timeLimit(.minutes(10)))
struct InitialRebalanceDelayTests {
    @Test("The first join into an Empty group is answered after exactly the 3 s initial delay")
    func firstJoinWaitsTheInitialDelay() throws {
        var harness = GroupHarness()
        let (memberId, ticket) = try harness.joinDynamic("c1")
        #expect(harness.group?.state == .preparingRebalance)
        #expect(harness.coordinator.nextDeadline == .seconds(3))
        harness.advance(to: .milliseconds(2_999))
        #expect(harness.takeJoin(ticket) == nil)
        harness.advance(to: .seconds(3))
        let response = try harness.requireJoin(ticket)
        #expect(response.errorCode == .none)
        #expect(response.generationId == 1)
        #expect(response.memberId == memberId)
        #expect(response.leader == memberId)
        #expect(response.protocolType == "consumer")
        #expect(response.protocolName == "range")
        #expect(response.members.map(\.memberId) == [memberId])
        #expect(harness.group?.state == .completingRebalance)
    }

    @Test("A member joining during the delay extends it by another 3 s from its expiry")
    func newcomerExtendsTheDelay() throws {
        var harness = GroupHarness()
        let first = try harness.joinDynamic("c1")
        harness.advance(to: .seconds(1))
        let second = try harness.joinDynamic("c2")
        harness.advance(to: .seconds(3))
        #expect(harness.ready.isEmpty)
        #expect(harness.coordinator.nextDeadline == .seconds(6))
        harness.advance(to: .milliseconds(5_999))
        #expect(harness.ready.isEmpty)
        harness.advance(to: .seconds(6))
        let leader = try harness.requireJoin(first.ticket)
        let follower = try harness.requireJoin(second.ticket)
        #expect(leader.generationId == 1 && follower.generationId == 1)
        #expect(leader.leader == first.memberId && follower.leader == first.memberId)
        #expect(leader.members.map(\.memberId) == [first.memberId, second.memberId])
        #expect(follower.members.isEmpty)
    }

    @Test("Each wave of newcomers extends the delay again; a quiet period completes the rebalance")
    func everyWaveExtends() throws {
        var harness = GroupHarness()
        var tickets = [try harness.joinDynamic("c1").ticket]
        harness.advance(to: .seconds(2))
        tickets.append(try harness.joinDynamic("c2").ticket)
        harness.advance(to: .seconds(4))
        tickets.append(try harness.joinDynamic("c3").ticket)
        harness.advance(to: .seconds(6))
        #expect(harness.ready.isEmpty)
        #expect(harness.coordinator.nextDeadline == .seconds(9))
        harness.advance(to: .seconds(9))
        #expect(tickets.compactMap { harness.takeJoin($0)?.generationId } == [1, 1, 1])
    }

    @Test("The extensions never go beyond the rebalance timeout")
    func extensionsStopAtTheRebalanceTimeout() throws {
        var harness = GroupHarness()
        let first = try harness.joinDynamic("c1", rebalanceTimeoutMs: 5_000)
        harness.advance(to: .seconds(1))
        let second = try harness.joinDynamic("c2", rebalanceTimeoutMs: 5_000)
        harness.advance(to: .seconds(3))
        #expect(harness.coordinator.nextDeadline == .seconds(5))
        harness.advance(to: .seconds(4))
        let third = try harness.joinDynamic("c3", rebalanceTimeoutMs: 5_000)
        harness.advance(to: .seconds(5))
        let answers = [first.ticket, second.ticket, third.ticket].compactMap { harness.takeJoin($0) }
        #expect(answers.map(\.generationId) == [1, 1, 1])
    }

    @Test("The delay is not cut short when everyone has joined")
    func delayRunsItsCourse() throws {
        var harness = GroupHarness()
        let join = try harness.joinDynamic("c1")
        #expect(harness.group?.hasAllMembersJoined == true)
        harness.advance(to: .seconds(2))
        #expect(harness.takeJoin(join.ticket) == nil)
    }

    @Test("A zero initial delay answers the first join in the same call")
    func zeroDelayAnswersAtOnce() throws {
        var harness = GroupHarness(settings: GroupSettings(initialRebalanceDelay: .zero))
        let join = try harness.joinDynamic("c1")
        #expect(harness.takeJoin(join.ticket)?.generationId == 1)
    }

    @Test("JoinGroup v3 admits a member without a member id directly, without MEMBER_ID_REQUIRED")
    func version3AdmitsDirectly() throws {
        var harness = GroupHarness()
        let ticket = harness.send(JoinGroupRequest(apiVersion: 3, groupId: "g", clientId: "old"))
        #expect(harness.takeJoin(ticket) == nil)
        harness.advance(by: .seconds(3))
        let response = try harness.requireJoin(ticket)
        #expect(response.errorCode == .none)
        #expect(response.memberId.hasPrefix("old-"))
        #expect(response.memberId.count == "old-".count + 36)
    }

    @Test("JoinGroup v0 uses the session timeout as the rebalance timeout")
    func version0UsesSessionTimeout() throws {
        var harness = GroupHarness()
        let request = JoinGroupRequest(apiVersion: 0, groupId: "g", sessionTimeoutMs: 10_000, rebalanceTimeoutMs: -1)
        _ = harness.send(request)
        #expect(harness.group?.rebalanceTimeout == .seconds(10))
    }
}
