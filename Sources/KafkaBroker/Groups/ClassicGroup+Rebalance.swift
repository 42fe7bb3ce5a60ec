/// What a group operation runs with: the time, the settings, and the replies it makes ready.
package struct GroupContext: Sendable {
    /// The current time.
    package var now: Duration
    /// The coordinator's settings.
    package let settings: GroupSettings
    /// The replies made ready so far.
    package var replies: [GroupReply] = []

    /// A context at `now`.
    package init(now: Duration, settings: GroupSettings) {
        self.now = now
        self.settings = settings
    }

    /// Makes a JoinGroup response ready.
    package mutating func reply(_ ticket: GroupTicket, _ response: JoinGroupResponse) {
        replies.append(GroupReply(ticket: ticket, body: .join(response)))
    }

    /// Makes a SyncGroup response ready.
    package mutating func reply(_ ticket: GroupTicket, _ response: SyncGroupResponse) {
        replies.append(GroupReply(ticket: ticket, body: .sync(response)))
    }
}

extension ClassicGroup {
    /// Answers a member's parked JoinGroup, if any (Kafka's `maybeInvokeJoinCallback`).
    package mutating func answerJoin(_ memberId: String, _ response: JoinGroupResponse, _ context: inout GroupContext) {
        guard let ticket = members[memberId]?.joinTicket else { return }
        members[memberId]?.joinTicket = nil
        context.reply(ticket, response)
    }

    /// Answers a member's parked SyncGroup, if any; returns whether there was one.
    @discardableResult
    package mutating func answerSync(
        _ memberId: String,
        _ response: SyncGroupResponse,
        _ context: inout GroupContext
    ) -> Bool {
        guard let ticket = members[memberId]?.syncTicket else { return false }
        members[memberId]?.syncTicket = nil
        context.reply(ticket, response)
        return true
    }

    /// Removes a member and answers what it had parked with UNKNOWN_MEMBER_ID (Kafka drops them).
    package mutating func removeAndAnswer(_ memberId: String, _ context: inout GroupContext) {
        guard let removed = remove(memberId) else { return }
        if let ticket = removed.joinTicket {
            context.reply(ticket, JoinGroupResponse(errorCode: .unknownMemberId, memberId: ""))
        }
        if let ticket = removed.syncTicket { context.reply(ticket, SyncGroupResponse(errorCode: .unknownMemberId)) }
    }

    /// Restarts a member's session timer (Kafka's `completeAndScheduleNextExpiration`); a member
    /// with a parked request, unless new, has no timer until it is answered.
    package mutating func scheduleHeartbeat(_ memberId: String, timeout: Duration? = nil, now: Duration) {
        guard let member = members[memberId] else { return }
        members[memberId]?.heartbeatDeadline =
            member.hasSatisfiedHeartbeat ? nil : now + (timeout ?? member.sessionTimeout)
    }

    /// Starts a rebalance unless one is under way (Kafka's `maybePrepareRebalance`).
    package mutating func maybePrepareRebalance(_ context: inout GroupContext) {
        if state == .stable || state == .completingRebalance || state == .empty { prepareRebalance(&context) }
    }

    /// Starts a rebalance: parked syncs get REBALANCE_IN_PROGRESS, the sync timer stops, and the
    /// join timer starts: the initial delay from Empty, else the group's rebalance timeout.
    package mutating func prepareRebalance(_ context: inout GroupContext) {
        if state == .completingRebalance { propagateAssignment(error: .rebalanceInProgress, &context) }
        pendingSyncMembers.removeAll()
        syncTimer = nil
        if state == .empty {
            let delay = context.settings.initialRebalanceDelay
            let remaining = max(rebalanceTimeout - delay, .zero)
            joinTimer = JoinTimer(deadline: context.now + delay, initial: (delay, remaining))
        } else {
            joinTimer = JoinTimer(deadline: context.now + Self.timerLength(rebalanceTimeout))
        }
        transition(to: .preparingRebalance, now: context.now)
        tryCompleteJoin(&context)
    }

    /// A timer's length from a rebalance timeout: at least a millisecond, so that a client's zero
    /// timeout cannot make timers fire again and again at one instant.
    package static func timerLength(_ timeout: Duration) -> Duration { max(timeout, .milliseconds(1)) }

    /// Completes the rebalance if it is a regular one and everyone has joined.
    package mutating func tryCompleteJoin(_ context: inout GroupContext) {
        guard state == .preparingRebalance, let timer = joinTimer, timer.initial == nil, hasAllMembersJoined else {
            return
        }
        joinTimer = nil
        completeJoin(&context)
    }

    /// The join timer fires: an initial delay during which new members joined is extended (within
    /// the rebalance timeout, InitialDelayedJoin's rule); otherwise the rebalance completes.
    package mutating func fireJoinTimer(_ context: inout GroupContext) {
        guard let timer = joinTimer else { return }
        joinTimer = nil
        if let initial = timer.initial, newMemberAdded, initial.remaining != .zero {
            newMemberAdded = false
            let delay = min(context.settings.initialRebalanceDelay, initial.remaining)
            let remaining = max(initial.remaining - initial.delay, .zero)
            joinTimer = JoinTimer(deadline: context.now + delay, initial: (delay, remaining))
            return
        }
        completeJoin(&context)
    }

    /// Kafka's `onCompleteJoin`: dynamic members that did not rejoin are removed, the leader is
    /// re-elected among those who did, and the next generation starts; every joined member gets
    /// its JoinGroup answer (the leader with everyone's metadata) and must sync in time.
    package mutating func completeJoin(_ context: inout GroupContext) {
        for id in memberIds where members[id]?.joinTicket == nil && members[id]?.groupInstanceId == nil {
            removeAndAnswer(id, &context)
        }
        if !electJoinedLeader() && !members.isEmpty {
            joinTimer = JoinTimer(deadline: context.now + Self.timerLength(rebalanceTimeout))
            return
        }
        generationId += 1
        protocolName = members.isEmpty ? nil : selectProtocol()
        transition(to: members.isEmpty ? .empty : .completingRebalance, now: context.now)
        pendingSyncMembers.removeAll()
        guard state == .completingRebalance else { return }
        let metadata = currentMemberMetadata()
        for id in memberIds {
            let response = JoinGroupResponse(
                errorCode: .none,
                generationId: generationId,
                protocolType: protocolType,
                protocolName: protocolName,
                leader: leaderId ?? "",
                memberId: id,
                members: leaderId == id ? metadata : []
            )
            answerJoin(id, response, &context)
            scheduleHeartbeat(id, now: context.now)
            members[id]?.isNew = false
            pendingSyncMembers.insert(id)
        }
        syncTimer = (context.now + Self.timerLength(rebalanceTimeout), generationId)
    }

    /// Keeps the leader if it rejoined, else elects the first member that did; false when nobody did.
    private mutating func electJoinedLeader() -> Bool {
        guard let leader = leaderId else { return false }
        if members[leader]?.joinTicket != nil { return true }
        guard let joined = memberIds.first(where: { members[$0]?.joinTicket != nil }) else { return false }
        leaderId = joined
        return true
    }

    /// Answers every parked SyncGroup: with each member's assignment, or with an error (which also
    /// clears the assignments). Answered members' sessions restart.
    package mutating func propagateAssignment(error: GroupErrorCode, _ context: inout GroupContext) {
        for id in memberIds {
            if error != .none { members[id]?.assignment = [] }
            let response =
                error == .none
                ? SyncGroupResponse(
                    errorCode: .none,
                    protocolType: protocolType,
                    protocolName: protocolName,
                    assignment: members[id]?.assignment ?? []
                )
                : SyncGroupResponse(errorCode: error)
            if answerSync(id, response, &context) { scheduleHeartbeat(id, now: context.now) }
        }
    }

    /// A member's sync arrived; the sync timer stops once every member has synced.
    package mutating func removePendingSyncMember(_ memberId: String) {
        pendingSyncMembers.remove(memberId)
        if pendingSyncMembers.isEmpty { syncTimer = nil }
    }

    /// Kafka's `removeMemberAndUpdateGroup`: the member's parked JoinGroup gets UNKNOWN_MEMBER_ID,
    /// and the group rebalances (or, while rebalancing, completes if the others have all joined).
    package mutating func removeMemberAndUpdateGroup(_ memberId: String, _ context: inout GroupContext) {
        answerJoin(memberId, JoinGroupResponse(errorCode: .unknownMemberId, memberId: ""), &context)
        removeAndAnswer(memberId, &context)
        switch state {
        case .stable, .completingRebalance: maybePrepareRebalance(&context)
        case .preparingRebalance: tryCompleteJoin(&context)
        case .empty, .dead: break
        }
    }
}
