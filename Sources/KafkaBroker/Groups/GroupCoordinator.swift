/// The classic consumer-group coordinator of one broker, as a pure state machine that behaves as
/// Apache Kafka 3.9's `GroupCoordinator` (the classic protocol; KIP-848 is not served).
///
/// Nothing here does I/O or reads a clock: every call takes the current time `now` as a `Duration`
/// since any fixed epoch (never decreasing from call to call). Requests that Kafka answers later are
/// parked under the caller's ticket; each mutating call returns the replies that are ready, which may
/// be for tickets parked earlier. `advance(to:)` fires the timers (sessions, rebalance and sync
/// timeouts, the initial rebalance delay) and returns what they made ready; `nextDeadline` is when to
/// call it next. Mutating calls first fire the timers due by `now`, then handle the request.
/// A parked request is always answered, with the error Kafka gives (or would give, where Kafka
/// silently drops it) when it can no longer succeed. The read-only calls (`fetchOffsets`,
/// `describeGroups`, `listGroups`) fire no timers: they show the state as of the last call.
package struct GroupCoordinator: Sendable {
    /// The settings.
    package let settings: GroupSettings
    /// The groups by id.
    package internal(set) var groups: [String: ClassicGroup] = [:]
    /// When expired offsets and Empty groups without offsets are next removed.
    package internal(set) var nextCleanup: Duration?
    /// The source of new member ids.
    private var random: MemberIdRandom

    /// A coordinator without groups. With a `seed`, member ids are reproducible.
    package init(settings: GroupSettings = GroupSettings(), seed: UInt64? = nil) {
        self.settings = settings
        self.random = MemberIdRandom(seed: seed)
    }

    /// When `advance(to:)` should next be called, nil when no timer runs.
    package var nextDeadline: Duration? {
        let deadlines = groups.values.compactMap(\.nextDeadline)
        return (deadlines + (groups.isEmpty ? [] : [nextCleanup].compactMap { $0 })).min()
    }

    /// Fires every timer due by `now`, each at its own deadline and in order, and returns the
    /// replies they made ready.
    package mutating func advance(to now: Duration) -> [GroupReply] {
        var replies: [GroupReply] = []
        fireTimers(upTo: now, into: &replies)
        return replies
    }

    /// Fires due timers, group timers before the cleanup due at the same time.
    private mutating func fireTimers(upTo now: Duration, into replies: inout [GroupReply]) {
        if nextCleanup == nil { nextCleanup = now + settings.offsetsRetentionCheckInterval }
        while true {
            let due = groups.compactMap { id, group in group.nextDeadline.map { (id, $0) } }
                .filter { $0.1 <= now }
                .min { ($0.1, $0.0) < ($1.1, $1.0) }
            if let cleanup = nextCleanup, cleanup <= now, due.map({ cleanup < $0.1 }) ?? true {
                removeExpiredOffsets(now: cleanup)
                nextCleanup = cleanup + settings.offsetsRetentionCheckInterval
                continue
            }
            guard let (groupId, deadline) = due else { return }
            var context = GroupContext(now: deadline, settings: settings)
            _ = groups[groupId]?.fireNextTimer(&context)
            replies += context.replies
        }
    }

    /// Runs one mutating request: fires overdue timers, lets `body` handle the request, fires the
    /// timers its handling made due at once, and returns every ready reply.
    package mutating func run(now: Duration, _ body: (inout Self, inout GroupContext) -> Void) -> [GroupReply] {
        var replies: [GroupReply] = []
        fireTimers(upTo: now, into: &replies)
        var context = GroupContext(now: now, settings: settings)
        body(&self, &context)
        replies += context.replies
        fireTimers(upTo: now, into: &replies)
        return replies
    }

    /// Handles a JoinGroup. The answer may come now or in a later call's replies (when the
    /// rebalance completes); it carries `ticket`.
    package mutating func joinGroup(_ request: JoinGroupRequest, ticket: GroupTicket, now: Duration) -> [GroupReply] {
        run(now: now) { coordinator, context in
            func refuse(_ error: GroupErrorCode) {
                context.reply(ticket, JoinGroupResponse(errorCode: error, memberId: request.memberId))
            }
            let session = Duration.kafkaMilliseconds(request.sessionTimeoutMs)
            if request.groupId.isEmpty { return refuse(.invalidGroupId) }
            if session < coordinator.settings.minSessionTimeout || session > coordinator.settings.maxSessionTimeout {
                return refuse(.invalidSessionTimeout)
            }
            if coordinator.groups[request.groupId] == nil {
                guard request.memberId.isEmpty else { return refuse(.unknownMemberId) }
                coordinator.groups[request.groupId] = ClassicGroup(groupId: request.groupId, now: now)
            }
            let prefix = request.groupInstanceId ?? request.clientId
            let generated = request.memberId.isEmpty ? "\(prefix)-\(coordinator.random.uuidString())" : ""
            coordinator.groups[request.groupId]?.join(
                request,
                ticket: ticket,
                generatedMemberId: generated,
                &context
            )
        }
    }

    /// Handles a SyncGroup. A follower's answer comes when the leader's assignment arrives (or
    /// the rebalance fails); it carries `ticket`.
    package mutating func syncGroup(_ request: SyncGroupRequest, ticket: GroupTicket, now: Duration) -> [GroupReply] {
        run(now: now) { coordinator, context in
            if request.apiVersion >= 5 && (request.protocolType == nil || request.protocolName == nil) {
                return context.reply(ticket, SyncGroupResponse(errorCode: .inconsistentGroupProtocol))
            }
            if request.groupId.isEmpty { return context.reply(ticket, SyncGroupResponse(errorCode: .invalidGroupId)) }
            guard coordinator.groups[request.groupId] != nil else {
                return context.reply(ticket, SyncGroupResponse(errorCode: .unknownMemberId))
            }
            coordinator.groups[request.groupId]?.sync(request, ticket: ticket, &context)
        }
    }

    /// Handles a Heartbeat; its answer is among the returned replies.
    package mutating func heartbeat(_ request: HeartbeatRequest, ticket: GroupTicket, now: Duration) -> [GroupReply] {
        run(now: now) { coordinator, context in
            let error: GroupErrorCode =
                if request.groupId.isEmpty { .invalidGroupId } else {
                    coordinator.groups[request.groupId]?.heartbeat(request, now: now) ?? .unknownMemberId
                }
            context.replies.append(GroupReply(ticket: ticket, body: .heartbeat(HeartbeatResponse(errorCode: error))))
        }
    }

    /// Handles a LeaveGroup; its answer is among the returned replies, with the JoinGroup answers
    /// of the remaining members if the rebalance it starts completes at once.
    package mutating func leaveGroup(_ request: LeaveGroupRequest, ticket: GroupTicket, now: Duration) -> [GroupReply] {
        run(now: now) { coordinator, context in
            let response: LeaveGroupResponse
            if request.groupId.isEmpty {
                response = LeaveGroupResponse(errorCode: .invalidGroupId)
            } else if coordinator.groups[request.groupId] != nil {
                let members = coordinator.groups[request.groupId]?.leave(request.members, &context) ?? []
                response = LeaveGroupResponse(errorCode: .none, members: members)
            } else {
                let members = request.members.map {
                    LeaveGroupMemberResponse(
                        memberId: $0.memberId,
                        groupInstanceId: $0.groupInstanceId,
                        errorCode: .unknownMemberId
                    )
                }
                response = LeaveGroupResponse(errorCode: .none, members: members)
            }
            context.replies.append(GroupReply(ticket: ticket, body: .leave(response)))
        }
    }
}
