import KafkaBroker
import KafkaProtocol
import Testing

/// A coordinator driven in simulated time: it hands out tickets, keeps the replies that are ready
/// until a test takes them, and forms groups the way clients do.
struct GroupHarness {
    var coordinator: GroupCoordinator
    var now: Duration = .zero
    private var lastTicket: GroupTicket = 0
    /// Replies ready and not yet taken.
    var ready: [GroupReply] = []

    init(settings: GroupSettings = GroupSettings()) {
        coordinator = GroupCoordinator(settings: settings, seed: 42)
    }

    var group: ClassicGroup? { coordinator.groups["g"] }

    mutating func nextTicket() -> GroupTicket {
        lastTicket += 1
        return lastTicket
    }

    mutating func advance(to time: Duration) {
        now = time
        ready += coordinator.advance(to: time)
    }

    mutating func advance(by duration: Duration) { advance(to: now + duration) }

    mutating func send(_ request: JoinGroupRequest) -> GroupTicket {
        let ticket = nextTicket()
        ready += coordinator.joinGroup(request, ticket: ticket, now: now)
        return ticket
    }

    mutating func send(_ request: SyncGroupRequest) -> GroupTicket {
        let ticket = nextTicket()
        ready += coordinator.syncGroup(request, ticket: ticket, now: now)
        return ticket
    }

    /// Fires timers, one deadline at a time, until every ticket has a reply.
    mutating func advanceUntilAnswered(_ tickets: [GroupTicket]) {
        for _ in 0..<100 {
            let answered = Set(ready.map(\.ticket))
            guard !tickets.allSatisfy(answered.contains), let deadline = coordinator.nextDeadline else { return }
            advance(to: deadline)
        }
    }

    /// Takes the reply to `ticket` if it is ready.
    mutating func take(_ ticket: GroupTicket) -> GroupReply.Body? {
        guard let index = ready.firstIndex(where: { $0.ticket == ticket }) else { return nil }
        return ready.remove(at: index).body
    }

    mutating func takeJoin(_ ticket: GroupTicket) -> JoinGroupResponse? {
        guard case .join(let response) = take(ticket) else { return nil }
        return response
    }

    mutating func takeSync(_ ticket: GroupTicket) -> SyncGroupResponse? {
        guard case .sync(let response) = take(ticket) else { return nil }
        return response
    }

    /// Takes the JoinGroup reply to `ticket`, which must be ready.
    mutating func requireJoin(_ ticket: GroupTicket) throws -> JoinGroupResponse {
        let response = takeJoin(ticket)
        return try #require(response, "JoinGroup was not answered")
    }

    /// Sends a JoinGroup that must be answered at once.
    mutating func join(_ request: JoinGroupRequest) throws -> JoinGroupResponse {
        let ticket = send(request)
        return try requireJoin(ticket)
    }

    /// Sends a SyncGroup that must be answered at once.
    mutating func sync(_ request: SyncGroupRequest) throws -> SyncGroupResponse {
        let ticket = send(request)
        let response = takeSync(ticket)
        return try #require(response, "SyncGroup was not answered")
    }

    /// A v9 dynamic member's first join: MEMBER_ID_REQUIRED, then the join with the given id,
    /// whose ticket is returned with the member id.
    mutating func joinDynamic(
        _ clientId: String,
        sessionTimeoutMs: Int32 = 45_000,
        rebalanceTimeoutMs: Int32 = 300_000,
        protocols: [GroupProtocol] = [GroupProtocol(name: "range")]
    ) throws -> (memberId: String, ticket: GroupTicket) {
        var request = JoinGroupRequest(
            groupId: "g",
            sessionTimeoutMs: sessionTimeoutMs,
            rebalanceTimeoutMs: rebalanceTimeoutMs,
            protocols: protocols,
            clientId: clientId
        )
        let first = try join(request)
        #expect(first.errorCode == .memberIdRequired)
        request.memberId = first.memberId
        return (first.memberId, send(request))
    }

    mutating func heartbeat(_ memberId: String, generation: Int32, instanceId: String? = nil) -> GroupErrorCode {
        let request = HeartbeatRequest(
            groupId: "g",
            generationId: generation,
            memberId: memberId,
            groupInstanceId: instanceId
        )
        let ticket = nextTicket()
        ready += coordinator.heartbeat(request, ticket: ticket, now: now)
        guard case .heartbeat(let response) = take(ticket) else { return .unknownServerError }
        return response.errorCode
    }

    mutating func leave(_ members: [LeaveGroupMember], groupId: String = "g") -> LeaveGroupResponse {
        let ticket = nextTicket()
        ready += coordinator.leaveGroup(LeaveGroupRequest(groupId: groupId, members: members), ticket: ticket, now: now)
        guard case .leave(let response) = take(ticket) else {
            return LeaveGroupResponse(errorCode: .unknownServerError)
        }
        return response
    }

    mutating func commit(_ request: OffsetCommitRequest) -> [GroupErrorCode] {
        let ticket = nextTicket()
        ready += coordinator.commitOffsets(request, ticket: ticket, now: now)
        guard case .offsetCommit(let response) = take(ticket) else { return [] }
        return response.topics.flatMap { $0.partitions.map(\.errorCode) }
    }

    /// Members join at once, the initial delay passes, the leader assigns `[index]` to each member
    /// (in join order) and everyone syncs: a Stable group.
    mutating func formGroup(
        _ clientIds: [String],
        sessionTimeoutMs: Int32 = 45_000,
        rebalanceTimeoutMs: Int32 = 300_000
    ) throws -> FormedGroup {
        var joins: [(memberId: String, ticket: GroupTicket)] = []
        for clientId in clientIds {
            joins.append(
                try joinDynamic(clientId, sessionTimeoutMs: sessionTimeoutMs, rebalanceTimeoutMs: rebalanceTimeoutMs)
            )
        }
        advanceUntilAnswered(joins.map(\.ticket))
        var responses: [JoinGroupResponse] = []
        for join in joins { responses.append(try requireJoin(join.ticket)) }
        let generation = responses[0].generationId
        let leader = responses[0].leader
        let ids = joins.map(\.memberId)
        let assignments = ids.enumerated().map { SyncGroupAssignment(memberId: $1, assignment: [UInt8($0)]) }
        var syncTickets: [GroupTicket] = []
        for id in ids where id != leader {
            syncTickets.append(send(SyncGroupRequest(groupId: "g", generationId: generation, memberId: id)))
        }
        let leaderSync = SyncGroupRequest(
            groupId: "g",
            generationId: generation,
            memberId: leader,
            assignments: assignments
        )
        #expect(try sync(leaderSync).errorCode == .none)
        for ticket in syncTickets { #expect(takeSync(ticket)?.errorCode == GroupErrorCode.none) }
        return FormedGroup(memberIds: ids, leader: leader, generation: generation)
    }
}

/// A Stable group formed by `GroupHarness.formGroup`.
struct FormedGroup {
    var memberIds: [String]
    var leader: String
    var generation: Int32
}
